"""Replay: recorded calls walked again through a menu by the engine, to see where each would end.

``menus diff`` and the admin console's preview of an edit compare two menus this way
(``replay_calls``). A call is replayed from its recorded steps (``ivr.calls.history``): the keys of
each menu prompt, the status of each transfer, and for the dialogues the engine hands over to (the
login, a ticket) the outcome they had, which replay cannot know: a good password stays good, a
ticket found stays found. Plain Python apart from reading the steps: the engine decides.

How a call that no longer fits its recording is replayed:

- a login the new menu asks for where the call never gave one: logged in if the call logged in
  anywhere, else the call ends ``login_needed`` there;
- a login the call gave where the new menu no longer asks for it: skipped;
- a prompt whose recorded answer belongs to another prompt (a ticket dialogue where the menu
  now asks for a key, say): the call ends ``dead_end`` there;
- a transfer where the call went on in the menu: the call ends transferred;
- keys running out at a prompt: the caller hung up there, as the recorded caller did.

A call ends like its call record (``ivr.calls.store``): the last outcome it met (``transferred
cadastro:+5511900000007``, ``closed cadastro``...), else ``hung_up`` where it stopped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from ivr import engine
from ivr.actions import Ask, Dial, Hangup, Outcome, Record, Redirect, Reply, Resume
from ivr.calls.steps import ERROR, LOGIN_OK
from ivr.menu import Menu
from ivr.speech.heard import Heard
from ivr.state import CallState

if TYPE_CHECKING:
    from database.session import Database

_MAX_REPLIES = 500  # replies walked in one call: far beyond any real call, never endless


@dataclass(frozen=True)
class RecordedStep:
    """One webhook of a recorded call (a ``call_steps`` row)."""

    step: str  # the endpoint: ivr.step, ivr.dialed, auth.password, tickets.number...
    node: str
    at: datetime
    keys: str | None = None
    key_count: int = 0
    result: str | None = None
    outcome: str | None = None
    outcome_detail: str | None = None
    said: str | None = None  # words said instead of keys (docs/rules.md#speech)
    confidence: float | None = None

    @property
    def in_dialogue(self) -> bool:
        """A step of a dialogue the engine hands over to (login, tickets), not of the menu."""
        return not self.step.startswith("ivr.")

    def replayed_keys(self) -> str:
        """The keys as kept, or as many stand-in digits for an entry kept back (a ticket number
        keyed at the main menu is replayed as a direct entry all the same)."""
        return self.keys if self.keys is not None else "0" * self.key_count


@dataclass(frozen=True)
class RecordedCall:
    call_sid: str
    started_at: datetime
    steps: tuple[RecordedStep, ...]  # after the first webhook, in order


@dataclass(frozen=True)
class End:
    """Where a replayed call ends: an outcome as the call record names it, and its detail."""

    kind: str  # transferred, closed, voicemail, hung_up, dead_end, login_needed...
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.kind} {self.detail}" if self.detail else self.kind


@dataclass(frozen=True)
class Walk:
    end: End
    nodes: frozenset[str]  # every node the call reached


@dataclass(frozen=True)
class ReplayResult:
    """One recorded call through the old and the new menu."""

    call_sid: str
    old: End
    new: End
    # Nodes the call reached through the old menu that the new one no longer has.
    gone: tuple[str, ...] = ()

    @property
    def differs(self) -> bool:
        return self.old != self.new

    @property
    def line(self) -> str:
        """``CALL_SID: OLD_END -> NEW_END``, naming any node of the old walk that is gone."""
        gone = f" (no longer in the menu: {', '.join(self.gone)})" if self.gone else ""
        return f"{self.call_sid}: {self.old} -> {self.new}{gone}"


def replay_calls(database: Database, old_menu: Menu, new_menu: Menu,
                 limit: int = 1000) -> list[ReplayResult]:
    """The last ``limit`` recorded calls replayed through both menus, oldest first; a result's
    ``differs`` says whether the call would end elsewhere, its ``line`` says how."""
    from ivr.calls.history import recent_calls

    return compare(old_menu, new_menu, recent_calls(database, limit))


def compare(old_menu: Menu, new_menu: Menu,
            calls: Sequence[RecordedCall]) -> list[ReplayResult]:
    results = []
    for call in calls:
        old, new = replay(old_menu, call), replay(new_menu, call)
        gone = tuple(sorted(name for name in old.nodes if new_menu.node(name) is None))
        results.append(ReplayResult(call.call_sid, old.end, new.end, gone))
    return results


def replay(menu: Menu, call: RecordedCall) -> Walk:
    """The call walked through ``menu``."""
    return _Replay(menu, call).run()


class _Replay:
    def __init__(self, menu: Menu, call: RecordedCall) -> None:
        self.menu = menu
        self.steps = call.steps
        self.next = 0  # index of the next step to replay
        self.now = call.started_at
        self.logged_in = False
        self.can_log_in = any(step.result == LOGIN_OK for step in call.steps)
        self.outcome: Outcome | None = None
        self.nodes: set[str] = set()
        self.context = engine.CallContext(is_logged_in=lambda: self.logged_in)

    def run(self) -> Walk:
        main = self.menu.settings.main_menu
        state = CallState(node=main, path=(main,))
        reply: Reply | End = engine.start(self.menu, self.now, self.context)
        for _ in range(_MAX_REPLIES):
            if isinstance(reply, End):
                return self.walk(reply)
            if reply.outcome is not None:
                self.outcome = reply.outcome
            then = reply.then
            if isinstance(then, Hangup):
                return self.walk(self.end_at(state))
            state = then.resume.state
            self.nodes.add(state.node)
            if isinstance(then, Redirect):
                reply = self.dialogue(then.resume)
            else:
                reply = self.answer(then, state)
        return self.walk(End("dead_end", state.node))

    def walk(self, end: End) -> Walk:
        return Walk(end, frozenset(self.nodes))

    def end_at(self, state: CallState) -> End:
        if self.outcome is not None:
            return End(self.outcome.kind, self.outcome.detail)
        return End("hung_up", state.node)

    def answer(self, then: Ask | Dial | Record, state: CallState) -> Reply | End:
        """The recorded answer to a prompt, a transfer or a recording of the engine's."""
        self.skip_login_not_asked()
        if self.next >= len(self.steps):
            return self.end_at(state)  # the caller said nothing more: hung up here
        step = self.steps[self.next]
        if step.result == ERROR:
            self.next += 1
            self.now = step.at
            return engine.on_failure(self.menu, self.now)
        if step.step != then.resume.endpoint:
            # A transfer puts the caller through, whatever the recording went on with.
            return self.end_at(state) if isinstance(then, Dial) else End("dead_end", state.node)
        self.next += 1
        self.now = step.at
        if isinstance(then, Ask):
            # Words said are matched again, against this menu's synonyms.
            heard = Heard(keys=step.replayed_keys(), speech=step.said or "",
                          confidence=step.confidence)
            return engine.on_answer(self.menu, state, heard, self.now, self.context)
        if isinstance(then, Dial):
            return engine.on_dial_result(self.menu, state, step.result, self.now, self.context)
        return engine.on_recording(self.menu, state, None)

    def skip_login_not_asked(self) -> None:
        """Steps of a login the recorded call gave where this menu does not ask for one."""
        index = self.next
        while index < len(self.steps) and self.steps[index].in_dialogue:
            if self.steps[index].result == LOGIN_OK:
                self.next = index + 1
            index += 1

    def dialogue(self, resume: Resume) -> Reply | End:
        """The engine hands the call to the login or the ticket dialogue: the recorded steps of
        that dialogue, with the outcomes they had, until it hands the call back."""
        target = resume.state
        login = resume.endpoint == engine.LOGIN
        if login and self.logged_in:
            return engine.enter(self.menu, target, self.now, self.context)
        start = self.next
        while self.next < len(self.steps) and self.steps[self.next].in_dialogue:
            step = self.steps[self.next]
            self.next += 1
            self.now = step.at
            if step.result == ERROR:
                return engine.on_failure(self.menu, self.now)
            if step.outcome is not None:
                self.outcome = Outcome(step.outcome, step.outcome_detail or "")
            if login and step.result == LOGIN_OK:
                self.logged_in = True
                return engine.enter(self.menu, target, self.now, self.context)
        if self.next == start:  # the recorded call was never asked this here
            if login:
                if self.can_log_in:  # it logged in elsewhere: it would here too
                    self.logged_in = True
                    return engine.enter(self.menu, target, self.now, self.context)
                return End("login_needed", target.node)
            if self.next < len(self.steps):
                return End("dead_end", target.node)
        if self.next >= len(self.steps):
            return self.end_at(target)  # the call ended in the dialogue
        if login:
            return End("dead_end", target.node)  # a login hands back only when it succeeds
        # A ticket dialogue hands the caller back to the main menu.
        main = self.menu.settings.main_menu
        return engine.enter(self.menu, target.with_entry("").at(main), self.now, self.context)
