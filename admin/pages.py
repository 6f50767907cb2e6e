"""What each console page shows, assembled from the reports: plain data for the templates."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from admin import charts
from admin.facts import ANSWERED, CLOSED, SELF_SERVED
from admin.masking import mask_number, mask_text
from admin.reports import (
    Period,
    Totals,
    admins_locked,
    caller_logins,
    console_logins,
    contacts_locked,
    survey_scores,
)
from ivr.calls.models import Call
from ivr.menu import Menu
from ivr.menu.schema import TicketStatusNode, TransferNode
from ivr.replay import ReplayResult

TRANSFER_RESULTS = (ANSWERED, "busy", "no-answer", "failed", "canceled", CLOSED)
RESULT_NAMES = {ANSWERED: "answered", "busy": "busy", "no-answer": "no answer",
                "failed": "failed", "canceled": "caller hung up", CLOSED: "closed hours"}


def ticket_nodes(menu: Menu) -> frozenset[str]:
    return frozenset(name for name, node in menu.spec.nodes.items()
                     if isinstance(node, TicketStatusNode))


# Past this many days a chart shows weeks: a bar per day of a year is unreadable, and drawing
# 365 bars (and 3 x 365 for the logins) took pygal about half a second.
MAX_DAILY_BARS = 62


def chart_buckets(days: list[date]) -> tuple[str, list[date]]:
    """"day" and the days, or "week" and each day's Monday."""
    if len(days) <= MAX_DAILY_BARS:
        return "day", days
    return "week", [day - timedelta(days=day.weekday()) for day in days]


def bucketed(values: list[tuple[date, int]]) -> tuple[str, list[tuple[date, int]]]:
    unit, starts = chart_buckets([day for day, _ in values])
    sums: dict[date, int] = {}
    for start, (_, n) in zip(starts, values, strict=True):
        sums[start] = sums.get(start, 0) + n
    return unit, list(sums.items())


def share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "–"


def overview(session: Session, totals: Totals, period: Period, menu: Menu,
             now: datetime) -> dict[str, Any]:
    calls = totals.calls
    parts = list(totals.categories(ticket_nodes(menu)).items())
    self_served = dict(parts)[SELF_SERVED]
    teams = sorted({team for team, _ in totals.transfers})
    results = [result for result in TRANSFER_RESULTS
               if any(totals.transfers[team, result] for team in teams)]
    results += sorted({result for _, result in totals.transfers} - set(results))
    transfer_rows = [(team, [totals.transfers[team, result] for result in results],
                      sum(totals.transfers[team, result] for result in results))
                     for team in teams]
    logins = caller_logins(session, period)
    scores = survey_scores(session, period)
    score_range = sorted({score for counts in scores.values() for score in counts})
    survey_rows = [(team, [counts[score] for score in score_range], sum(counts.values()),
                    average(counts)) for team, counts in sorted(scores.items())]
    login_buckets = {group: bucketed([(day, counts[day]) for day in period.days()])
                     for group, counts in logins.items()}
    unit, first = login_buckets["ok"]
    return {
        "calls": calls,
        "self_served": self_served,
        "self_served_share": share(self_served, calls),
        "parts": [(label, n, share(n, calls)) for label, n in parts],
        "per_day": totals.by_local_day(period),
        "per_hour": totals.by_local_hour(period),
        "chart_days": charts.calls_per_bucket(*bucketed(totals.by_local_day(period))),
        "chart_hours": charts.calls_per_hour(totals.by_local_hour(period)),
        "chart_shares": charts.shares("Where calls ended", parts),
        "transfer_results": [RESULT_NAMES.get(result, result) for result in results],
        "transfer_rows": transfer_rows,
        "chart_transfers": charts.stacked(
            "Transfers by team and result", teams,
            [(RESULT_NAMES.get(result, result), [totals.transfers[team, result]
                                                 for team in teams]) for result in results]),
        "logins": {group: sum(counts.values()) for group, counts in logins.items()},
        "chart_logins": charts.stacked(
            f"Phone logins per {unit}", [day.strftime("%d/%m") for day, _ in first],
            [(group, [n for _, n in buckets]) for group, (_, buckets) in login_buckets.items()]),
        "contacts_locked": contacts_locked(session, now),
        "console_logins": console_logins(session, period),
        "admins_locked": admins_locked(session, now),
        "survey_scores": score_range,
        "survey_rows": survey_rows,
        "chart_surveys": charts.stacked(
            "Satisfaction scores by team", [team for team, *_ in survey_rows],
            [(str(score), [values[i] for _, values, _, _ in survey_rows])
             for i, score in enumerate(score_range)], horizontal=True),
    }


def average(counts: Counter[int]) -> str:
    answers = sum(counts.values())
    mean = sum(score * n for score, n in counts.items()) / answers if answers else 0
    return f"{mean:.1f}".replace(".", ",") if answers else "-"


@dataclass(frozen=True)
class FunnelRow:
    node: str
    kind: str
    reached: int
    gave_up: int
    retries_exhausted: int

    @property
    def lost_share(self) -> str:
        return share(self.gave_up + self.retries_exhausted, self.reached)


def funnel_rows(totals: Totals, menu: Menu) -> list[FunnelRow]:
    """The menu's nodes in its own order, then nodes only older calls reached."""
    names = list(menu.spec.nodes) + sorted(set(totals.funnel) - set(menu.spec.nodes))
    rows = []
    for name in names:
        counts = totals.funnel.get(name, {})
        node = menu.node(name)
        rows.append(FunnelRow(name, node.type if node else "not in the menu now",
                              counts.get("reached", 0), counts.get("gave_up", 0),
                              counts.get("retries_exhausted", 0)))
    return rows


def funnel_chart(rows: list[FunnelRow]) -> str:
    shown = [row for row in rows if row.reached]
    return charts.grouped("Drop-off per node", [row.node for row in shown], [
        ("reached", [row.reached for row in shown]),
        ("gave up there", [row.gave_up for row in shown]),
        ("retries exhausted", [row.retries_exhausted for row in shown])])


def node_transfers(totals: Totals, name: str) -> list[tuple[str, int]]:
    return [(RESULT_NAMES.get(result, result), n)
            for (team, result), n in sorted(totals.transfers.items()) if team == name]


def node_facts(menu: Menu, name: str) -> list[tuple[str, str]]:
    node = menu.node(name)
    if node is None:
        return []
    facts = [("type", node.type.replace("_", " ")), ("login", "yes" if node.auth else "no")]
    if isinstance(node, TransferNode):
        facts += [("hours", node.schedule or "always"), ("if unanswered", node.on_unanswered)]
        if node.when_closed:
            facts.append(("when closed", node.when_closed))
    return facts


@dataclass(frozen=True)
class CallRow:
    call_sid: str
    started: str
    number: str
    path: str
    last_node: str
    outcome: str
    detail: str
    duration: str
    status: str


def call_rows(calls: list[Call], period: Period) -> list[CallRow]:
    return [CallRow(
        call_sid=call.call_sid,
        started=call.started_at.astimezone(period.zone).strftime("%Y-%m-%d %H:%M:%S")
        if call.started_at else "",
        number=mask_number(call.from_number),
        path=" → ".join(name for name in call.path.split(",") if name),
        last_node=call.last_node or "",
        outcome=call.outcome or "",
        detail=mask_text(call.outcome_detail),
        duration=f"{call.duration_seconds} s" if call.duration_seconds is not None else "",
        status=call.final_status or "",
    ) for call in calls]


def menu_changes(old: Menu, new: Menu) -> dict[str, list[str]]:
    """Nodes added, removed and changed by an edit."""
    before, after = old.spec.nodes, new.spec.nodes
    return {
        "added": sorted(set(after) - set(before)),
        "removed": sorted(set(before) - set(after)),
        "changed": sorted(name for name in set(before) & set(after)
                          if before[name] != after[name]),
    }


@dataclass(frozen=True)
class ReplayRow:
    """A recorded call that the edit would end elsewhere, as ``menus diff`` lines it up (the
    ends' numbers masked, as everywhere in the console)."""

    call_sid: str
    old_end: str
    new_end: str
    gone: str  # nodes the call reached that the edit removes


def replay_rows(results: list[ReplayResult]) -> list[ReplayRow]:
    return [ReplayRow(result.call_sid, mask_text(str(result.old)), mask_text(str(result.new)),
                      ", ".join(result.gone))
            for result in results if result.differs]
