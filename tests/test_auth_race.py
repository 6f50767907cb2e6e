"""Concurrent failures on one contact, from separate processes, are each counted exactly once.

Eight processes ('spawn', each with its own engine and connection) wait at a barrier, then each
keys a wrong password for the same contact at the same moment. With a read-modify-write count
several would read the same value and the total would come out short (or SQLite would refuse the
late writers); with the single atomic UPDATE the count reaches exactly 5, the 5th locks the
contact, and the three later ones find it locked.
"""

from __future__ import annotations

import multiprocessing
from collections import Counter
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier

from sqlalchemy import select

from auth.counters import LOCK_DURATION
from auth.models import CallerFailure, LoginAttempt
from auth.service import verify_login
from database.session import Database
from tests.conftest_auth import (
    CPF,
    NOW,
    ROUNDS,
    WRONG_PASSWORD,
    add_contact,
    db_fixture,  # noqa: F401 - provides the "db" fixture
    load_contact,
)

WORKERS = 8
SHARED_CALLER = "+5511900000000"


def fail_once(url: str, index: int, barrier: Barrier, results: Queue[str]) -> None:
    database = Database(url)
    try:
        with database.session() as warm_up:  # connect before the race, not during it
            warm_up.execute(select(1))
        barrier.wait(timeout=60)
        with database.transaction() as session:
            result = verify_login(session, cpf=CPF, password=WRONG_PASSWORD,
                                  call_sid=f"CA-race-{index}", caller=SHARED_CALLER,
                                  now=NOW, rounds=ROUNDS)
        results.put(result.status)
    finally:
        database.dispose()


def test_concurrent_failures_lock_at_exactly_five(db: Database) -> None:
    add_contact(db)
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(WORKERS)
    results: Queue[str] = context.Queue()
    workers = [
        context.Process(target=fail_once, args=(db.url, index, barrier, results))
        for index in range(WORKERS)
    ]
    for worker in workers:
        worker.start()
    statuses = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)

    assert [worker.exitcode for worker in workers] == [0] * WORKERS
    assert Counter(statuses) == {"failed": 5, "locked": 3}
    contact = load_contact(db)
    assert contact.failed_attempts == 5
    assert contact.locked_until == NOW + LOCK_DURATION
    with db.session() as session:
        audit = Counter(session.scalars(select(LoginAttempt.result)))
        caller_failures = session.get(CallerFailure, SHARED_CALLER)
    assert audit == {"bad_password": 4, "bad_password_locks": 1, "locked": 3}
    assert caller_failures is not None and caller_failures.failures == WORKERS
