"""Does a refused login take the same time whatever the stored hash? Times ``check_login`` (the
reads and bcrypt of a login, no write) for a wrong password against a contact whose hash has a
lower cost than ``BCRYPT_ROUNDS``, and for a CPF nobody has, and prints the medians.

    .venv/bin/python scripts/time_login_refusals.py                  # cost 10 at rounds 12
    .venv/bin/python scripts/time_login_refusals.py --cost 4 --rounds 12 --runs 20

A gap between the two medians is what a caller with a stopwatch hears: the CPF exists.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a file: the project's packages live one level up

from auth.models import Company, Contact  # noqa: E402
from auth.passwords import dummy_hash, hash_password  # noqa: E402
from auth.service import check_login  # noqa: E402
from database.migrate import upgrade  # noqa: E402
from database.session import Database  # noqa: E402

KNOWN_CPF, UNKNOWN_CPF = "52998224725", "39053344705"
PASSWORD, WRONG_PASSWORD = "482913", "591827"
NOW = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)


def _time_ms(db: Database, cpf: str, rounds: int, index: int) -> float:
    with db.session() as session:
        started = time.perf_counter()
        check = check_login(session, cpf=cpf, password=WRONG_PASSWORD, call_sid=f"CA-{index}",
                            caller="+5511900000000", now=NOW, rounds=rounds)
        elapsed = time.perf_counter() - started
    assert not check.matched
    return elapsed * 1000


def _medians(db: Database, runs: int, rounds: int) -> tuple[float, float]:
    """(known CPF, unknown CPF), the two taken in turns so a change of load hits both alike."""
    known, unknown = [], []
    for index in range(runs):
        known.append(_time_ms(db, KNOWN_CPF, rounds, index))
        unknown.append(_time_ms(db, UNKNOWN_CPF, rounds, index))
    return statistics.median(known), statistics.median(unknown)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cost", type=int, default=10, help="the contact's stored hash cost")
    parser.add_argument("--rounds", type=int, default=12, help="BCRYPT_ROUNDS")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{Path(directory) / 'ivr.sqlite3'}"
        upgrade(url)
        db = Database(url)
        with db.transaction() as session:
            company = Company(cnpj="11222333000181", name="Colégio Exemplo")
            session.add(company)
            session.flush()
            session.add(Contact(cpf=KNOWN_CPF, name="Maria Silva", company_id=company.id,
                                password_hash=hash_password(PASSWORD, args.cost),
                                created_at=NOW, updated_at=NOW))
        for cost in range(4, args.rounds + 1):  # made once per process: not part of a login
            dummy_hash(cost)
        _medians(db, 2, args.rounds)  # warm up connections and caches
        known, unknown = _medians(db, args.runs, args.rounds)
        db.dispose()
    print(f"rounds {args.rounds}, {args.runs} runs each (in turns), median of check_login:")
    print(f"  wrong password, cost-{args.cost} hash: {known:8.1f} ms")
    print(f"  unknown CPF:                {unknown:8.1f} ms")
    print(f"  ratio: {known / unknown:.2f}")


if __name__ == "__main__":
    main()
