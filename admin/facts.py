"""What one call record tells the reports: pure, so rollups and live counts agree by
construction.

A record keeps the path walked, the last node and the outcome (``ivr.actions.Outcome``), whose
detail names where it happened: ``transferred`` ``node:target``, ``closed`` ``node``,
``unanswered`` ``node:status``, ``retries_exhausted`` ``node``, ``gave_up`` ``login:node``,
``voicemail`` ``node:recording``; ``hung_up`` and the ticket outcomes happen at the last node.
``transfer_result`` keeps ``node:status`` of an unanswered transfer when a fallback's outcome
replaced it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from admin.models import NODE_LENGTH

ANSWERED = "answered"
CLOSED = "closed"
GAVE_UP = frozenset({"hung_up", "gave_up"})
RETRIES_EXHAUSTED = "retries_exhausted"
NO_OUTCOME = ""  # the call is still on, or its status callback never came
# Outcomes that put the caller through to a person (or their voicemail).
WITH_A_PERSON = frozenset({"transferred", "unanswered", "voicemail"})


@dataclass(frozen=True)
class CallFacts:
    outcome: str
    node: str  # where the outcome happened
    transfers: tuple[tuple[str, str], ...]  # (team node, answered | busy | no-answer | closed...)
    reached: frozenset[str]
    gave_up_at: str | None
    retries_exhausted_at: str | None


@lru_cache(maxsize=8192)  # calls repeat the same few paths and outcomes over and over
def call_facts(path: str | None, last_node: str | None, outcome: str | None,
               detail: str | None, transfer_result: str | None) -> CallFacts:
    kind = (outcome or NO_OUTCOME)[:32]
    node = _clip(_outcome_node(kind, detail or "", last_node or ""))
    transfers: list[tuple[str, str]] = []
    if transfer_result:
        team, _, status = transfer_result.partition(":")
        transfers.append((_clip(team), (status.rpartition(":")[2] or "unknown")[:32]))
    if kind == "transferred":
        transfers.append((node, ANSWERED))
    elif kind == CLOSED:
        transfers.append((node, CLOSED))
    elif kind == "unanswered" and not transfer_result:
        status = (detail or "").rpartition(":")[2] or "unknown"
        transfers.append((node, status[:32]))
    reached = frozenset(_clip(name) for name in (path or "").split(",") if name)
    return CallFacts(
        outcome=kind,
        node=node,
        transfers=tuple(dict.fromkeys(transfers)),
        reached=reached | ({node} if kind in GAVE_UP and node else frozenset()),
        gave_up_at=node if kind in GAVE_UP and node else None,
        retries_exhausted_at=node if kind == RETRIES_EXHAUSTED and node else None,
    )


def _outcome_node(kind: str, detail: str, last_node: str) -> str:
    if kind in {"transferred", "unanswered", "voicemail"}:
        return detail.partition(":")[0] or last_node
    if kind in {CLOSED, RETRIES_EXHAUSTED, "message", "login_failed"}:
        return detail.partition(":")[0] or last_node
    if kind == "gave_up":
        return detail.removeprefix("login:") or last_node
    return last_node


def _clip(name: str) -> str:
    return name[:NODE_LENGTH]


SELF_SERVED = "served without a person"
WITH_PERSON = "with a person or voicemail"
CLOSED_HOURS = "closed hours"
LOST = "gave up"
OTHER = "other or still on"
CATEGORIES = (SELF_SERVED, WITH_PERSON, CLOSED_HOURS, LOST, OTHER)


def category(outcome: str, node: str, ticket_nodes: frozenset[str]) -> str:
    """How a call ended, in the words of the overview. Served without a person: a message, a
    ticket heard or changed (hanging up after hearing a ticket is how such a call ends)."""
    if outcome == "message" or outcome.startswith("ticket_") or (
            outcome in GAVE_UP and node in ticket_nodes):
        return SELF_SERVED
    if outcome in WITH_A_PERSON:
        return WITH_PERSON
    if outcome == CLOSED:
        return CLOSED_HOURS
    if outcome in GAVE_UP or outcome in {RETRIES_EXHAUSTED, "login_failed"}:
        return LOST
    return OTHER
