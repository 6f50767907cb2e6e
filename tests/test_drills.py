"""The fault drills (scripts/drills/), shortened and on one layout (nginx, two instances, a
PostgreSQL server the drills own): callers play whole calls while a worker, an instance, the
database or the menu file fails (in this order: the database's faults last). The bar: no 5xx
reaches the provider, no caller is left in silence or cut off, no login or lockout count is lost
or doubled, call records lose at most the steps in flight of killed workers, and service is
back within seconds."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from scripts.drills import (
    broken_menu,
    capacity,
    database_down,
    kill_instance,
    kill_worker,
    restart_postgres,
)
from scripts.drills.common import (
    Fault,
    Layout,
    Result,
    can_own_postgres,
    meets_the_bar,
    options,
)
from tests import nginx

# The drills bring their own PostgreSQL whatever TEST_DATABASE_URL says: they run once, in the
# PostgreSQL pass of the suite (CI runs it after the SQLite one).
pytestmark = [
    pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
                       reason="runs in the PostgreSQL pass (TEST_DATABASE_URL)"),
    pytest.mark.skipif(not (nginx.available() and can_own_postgres()),
                       reason="needs nginx, PostgreSQL's server programs and root"),
]

SHORT = ["--callers", "12", "--calm", "2", "--after", "3"]


@pytest.fixture(scope="module")
def layout() -> Iterator[Layout]:
    with Layout(options(SHORT)) as shared:
        yield shared


def drill(layout: Layout, fault: Fault, *extra: str) -> tuple[Result, int]:
    result = layout.exercise(fault, options([*SHORT, *extra]))
    print("\n".join(result.lines()))  # shown with -s, and on failure
    return result, result.findings.calls


def test_killing_workers_loses_no_call_and_at_most_the_steps_in_flight(layout: Layout) -> None:
    result, calls = drill(layout, kill_worker.kill_workers, "--kills", "2")
    assert calls > 10
    assert meets_the_bar(result, steps_allowed=2) == []


def test_killing_an_instance_sends_its_calls_to_the_other(layout: Layout) -> None:
    result, calls = drill(layout, kill_instance.kill_instance)
    assert calls > 10
    assert meets_the_bar(result, steps_allowed=2) == []
    assert any("serving again after" in note for note in result.notes)


def test_a_broken_menu_saved_under_load_changes_nothing_for_callers(layout: Layout) -> None:
    result, calls = drill(layout, broken_menu.save_a_broken_menu)
    assert calls > 10
    assert meets_the_bar(result) == []
    assert result.findings.disturbed_calls == 0
    assert any("on 2 of 2 instances" in note for note in result.notes)


def test_a_database_restart_loses_no_record_and_no_lockout_count(layout: Layout) -> None:
    result, calls = drill(layout, restart_postgres.restart_postgres)
    assert calls > 10
    assert meets_the_bar(result) == []


def test_a_database_that_refuses_connections_leaves_no_caller_in_silence(
    layout: Layout,
) -> None:
    result, _ = drill(layout, database_down.refuse_connections, "--outage", "5")
    assert meets_the_bar(result) == []
    # Callers who needed the database heard the apology (and a person, in hours).
    assert result.findings.disturbed_calls > 0


def test_the_capacity_drill_keeps_every_call_through_a_worker_and_an_instance_killed() -> None:
    """The capacity drill, small and fast (its own PostgreSQL, callers at 20 times a person's
    pace): every call as scripted and recorded, the killed instance's CPU counted. Its latency
    bars are for a quiet machine (docs/capacity.md), not for a test."""
    report, notes, problems = capacity.run(capacity.parse_args([
        "--callers", "20", "--seconds", "25", "--pace", "0.05", "--kill-worker-at", "8",
        "--kill-instance-at", "15", "--rounds", "10", "--contacts", "40", "--tickets", "500",
        "--workers", "2"]))
    print("\n".join([report.text(), *notes, *problems]))
    assert len(report.calls) > 40
    assert [call.problem for call in report.failed] == []
    assert any("kill -9 of worker" in note for note in notes)
    assert any("kill -9 of instance" in note and "serving again" in note for note in notes)
    assert "call records missing or not closed: 0" in notes
    cpu = report.cpu_ms_per_call()
    assert cpu is not None and cpu > 0
