"""Whole calls against running instances: many callers at once, each walking the line as a person
would, every request signed as the provider signs it.

    .venv/bin/python scripts/load_calls.py prepare --database-url URL --contacts 2000 \\
        --tickets 100000 --out load-data.json
    .venv/bin/python scripts/load_calls.py run --base-url http://127.0.0.1:8080 \\
        --token TOKEN --data load-data.json --callers 500 --seconds 300 --server-pid PID

``prepare`` gives many contacts known passwords (hashed as the servers hash them: set the same
``BCRYPT_ROUNDS`` and ``PASSWORD_PEPPER``) and loads tickets with ``scripts/load_tickets.py``;
without ``--data`` the run uses the demo data (``demo/demo-data.json``).

``run`` places calls arriving at random (a Poisson process) at ``--rate`` calls a second, or at the
rate that keeps about ``--callers`` calls on the line. Each call follows a script (option 7; the
2-2-3-9-9 walk to a team behind a login; a ticket number keyed at the main menu; wrong passwords;
an invalid key or a silence; a hang-up at any point) and is paced as a person: each prompt takes
the time it takes to say (``CHARS_PER_SECOND``), keys take a reaction time and a time per key, a
transfer rings, is busy or is answered and talked through. ``--pace 0`` drops every wait (tests).
Each request goes to one of the ``--base-url``s at random. The servers must be in business hours
(``IVR_FROZEN_TIME=2026-12-01T10:00:00-03:00``) for the transfers the scripts expect.

What each call heard is checked against its script; the report gives the calls on the line,
calls a second, latency p50/p99 per kind of step (the webhook's path), the login step on its own,
the servers' CPU per whole call (``--server-pid``: gunicorn masters, read from /proc) and every
call whose transcript was not what its script expected. Exit status 1 if any was not.

Importable: ``run_load(RunOptions(...))`` returns a ``Report``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import secrets
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import aiohttp
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a file: the project's packages live one level up

from auth.documents import complete_cpf  # noqa: E402
from ivr.menu import Menu, load_menu  # noqa: E402
from ivr.speech.menus import number_listen  # noqa: E402

DEMO_DATA = ROOT / "demo" / "demo-data.json"
LOAD_TICKETS = ROOT / "scripts" / "load_tickets.py"
# Brazilian Portuguese text-to-speech runs at about 150 words a minute, 6 characters a word.
CHARS_PER_SECOND = 15.0
LOGIN_PATH = "/voice/auth/password"
# The app's failure answers (ivr/errors.py): never part of a good transcript.
FAILURE_TEXTS = ("tivemos um problema", "nosso menu foi atualizado")
MAX_LOCK_FAILURES = 4  # one fewer than the lock (docs/rules.md#login): no contact ever locks


# -- data: who can log in and which tickets are theirs -----------------------------------------


@dataclass(frozen=True)
class Contact:
    cpf: str
    password: str
    first_name: str
    tickets: tuple[str, ...]  # numbers of the contact's company's tickets


@dataclass(frozen=True)
class LoadData:
    contacts: tuple[Contact, ...]
    foreign_ticket: str | None  # a ticket of a company none of the contacts belongs to

    @classmethod
    def read(cls, path: Path) -> LoadData:
        raw = json.loads(path.read_text())
        return cls(tuple(Contact(c["cpf"], c["password"], c["first_name"], tuple(c["tickets"]))
                         for c in raw["contacts"]),
                   raw.get("foreign_ticket"))

    @classmethod
    def demo(cls) -> LoadData:
        """The demo data's contacts and tickets (each company has one the other cannot hear)."""
        raw = json.loads(DEMO_DATA.read_text())
        tickets: dict[str, list[str]] = {}
        for ticket in raw["tickets"]:
            tickets.setdefault(ticket["company"], []).append(ticket["number"])
        contacts = tuple(
            Contact(c["cpf"], c["password"], c["name"].split()[0], tuple(tickets[c["company"]]))
            for c in raw["contacts"] if c.get("password"))
        return cls(contacts, None)

    def write(self, path: Path) -> None:
        path.write_text(json.dumps({
            "contacts": [{"cpf": c.cpf, "password": c.password, "first_name": c.first_name,
                          "tickets": list(c.tickets)} for c in self.contacts],
            "foreign_ticket": self.foreign_ticket,
        }))


class ContactPool:
    """Hands out contacts so that no contact is ever locked (5 failures in a row).

    A call that will key wrong passwords holds its contact alone (no other such call uses it
    meanwhile) and only a contact whose failures so far plus the planned ones stay under the lock;
    a good login ends the run of failures. Calls with the right password only share contacts
    freely: a good login can only lower the server's count below what this pool assumes.
    """

    def __init__(self, contacts: Sequence[Contact], rng: random.Random) -> None:
        if not contacts:
            raise ValueError("no contacts with a password in the data")
        self.contacts = list(contacts)
        self.rng = rng
        self.failures = dict.fromkeys(range(len(contacts)), 0)
        self.held: set[int] = set()

    def any(self) -> int:
        return self.rng.randrange(len(self.contacts))

    def for_failures(self, planned: int) -> int | None:
        free = [i for i in range(len(self.contacts))
                if i not in self.held and self.failures[i] + planned <= MAX_LOCK_FAILURES]
        if not free:
            return None
        index = self.rng.choice(free)
        self.held.add(index)
        return index

    def release(self, index: int, failures: int, logged_in: bool) -> None:
        self.held.discard(index)
        self.failures[index] = 0 if logged_in else self.failures[index] + failures


# -- scripts: what a caller does and what they should hear -------------------------------------


@dataclass(frozen=True)
class Expect:
    """What the caller should meet after a move: the next verb and words heard on the way."""

    verb: str  # "Gather", "Dial", "Record" or "Hangup"
    path: str = ""  # the next request's path starts with this ("" for any)
    heard: tuple[str, ...] = ()  # each of these is said (in this document or the redirects to it)

    def problem(self, page: Page) -> str | None:
        if any(text in page.heard for text in FAILURE_TEXTS):
            return "the app's failure answer"
        if page.verb != self.verb:
            return f"expected <{self.verb}>, got <{page.verb}>"
        if self.path and not (page.action or "").startswith(self.path):
            return f"expected a step at {self.path}, got {page.action}"
        missing = [text for text in self.heard if text not in page.heard]
        return f"did not hear {missing[0]!r}" if missing else None


@dataclass(frozen=True)
class Move:
    """What the caller does at a prompt: keys (``#`` ends them), silence, a transfer's outcome,
    a recorded message; then what they should meet."""

    kind: str  # "keys", "silence", "dial", "record"
    value: str
    expect: Expect


@dataclass
class Script:
    name: str
    moves: list[Move]
    login: bool = False  # the script logs in (a password step)
    contact: int | None = None  # held from the pool for wrong passwords
    wrong_passwords: int = 0
    logs_in: bool = False


STEP = "/voice/step"
CPF = "/voice/auth/cpf"
PASSWORD = "/voice/auth/password"
TICKET_ACTION = "/voice/tickets/action"
ANSWERS = ("completed", "busy", "no-answer")


def menu_key(key: str) -> Move:
    return Move("keys", key, Expect("Gather", STEP))


@dataclass(frozen=True)
class Texts:
    """What the scripts expect to hear, from the menu file the servers serve (its wording)."""

    ask_cpf: str
    ask_password: str
    failed: str
    recover: str
    welcome: str  # with {name}
    not_found: str
    invalid: str
    silence: str
    recorded: str
    cadastro: str  # what option 7's transfer says
    apology: str  # said before a call goes on through the fallback URL

    @classmethod
    def of(cls, menu: Menu) -> Texts:
        words, retries = menu.wording, menu.settings.retries
        cadastro = menu.spec.nodes.get("cadastro")
        # the teams' unanswered transfers all end in the voicemail option 7's does
        voicemail = menu.spec.nodes.get(str(getattr(cadastro, "on_unanswered", "")))
        # a line that takes speech asks for the CPF in other words (auth.flow.ask_cpf)
        spoken = number_listen(menu) is not None
        return cls(words.login_ask_cpf_spoken if spoken else words.login_ask_cpf,
                   words.login_ask_password, words.login_failed,
                   words.login_recover, words.login_welcome, words.ticket_not_found,
                   retries.invalid, retries.silence,
                   str(getattr(voicemail, "thanks", "") or words.recording_thanks),
                   str(getattr(cadastro, "say", "") or ""), menu.settings.apology)


def transfer(outcome: str, t: Texts) -> list[Move]:
    """A transfer heard, then the provider's outcome of the dial; unanswered ones offer a
    message, which the caller leaves."""
    moves = [Move("dial", outcome, Expect("Hangup") if outcome == "completed"
                  else Expect("Record", "/voice/recorded"))]
    if outcome != "completed":
        moves.append(Move("record", "", Expect("Hangup", heard=(t.recorded,))))
    return moves


def cadastro(rng: random.Random, t: Texts) -> Script:
    outcome = rng.choice(ANSWERS)
    moves = [Move("keys", "7", Expect("Dial", "/voice/dialed", (t.cadastro,)))]
    return Script("cadastro", moves + transfer(outcome, t))


def login_moves(contact: Contact, wrong: int, then_right: bool, rng: random.Random, t: Texts
                ) -> list[Move]:
    """CPF and password ``wrong`` times with a wrong password, then the right one (or the
    third failure's goodbye)."""
    moves: list[Move] = []
    for attempt in range(wrong):
        moves.append(Move("keys", contact.cpf + "#", Expect("Gather", PASSWORD,
                                                           (t.ask_password,))))
        bad = _wrong_password(contact.password, rng)
        if attempt == 2:
            moves.append(Move("keys", bad + "#", Expect("Hangup", heard=(t.failed, t.recover))))
            return moves
        moves.append(Move("keys", bad + "#", Expect("Gather", CPF, (t.failed,))))
    if then_right:
        moves.append(Move("keys", contact.cpf + "#", Expect("Gather", PASSWORD,
                                                           (t.ask_password,))))
    return moves


def _wrong_password(right: str, rng: random.Random) -> str:
    while True:
        candidate = "".join(rng.choice("0123456789") for _ in range(len(right)))
        if candidate != right:
            return candidate


def welcome(contact: Contact, t: Texts) -> str:
    return t.welcome.replace("{name}", contact.first_name)


def team_call(rng: random.Random, pool: ContactPool, wrong: int, t: Texts) -> Script:
    """2-2-3-9-9 then a team behind the login, ``wrong`` bad passwords first."""
    team = rng.choice("123")
    index = pool.for_failures(wrong) if wrong else pool.any()
    if index is None:  # every contact is busy failing: a call without failures instead
        wrong, index = 0, pool.any()
    contact = pool.contacts[index]
    moves = [menu_key(key) for key in "22399"]
    moves.append(Move("keys", team, Expect("Gather", CPF, (t.ask_cpf,))))
    moves += login_moves(contact, wrong, wrong < 3, rng, t)
    script = Script(f"team{'-wrong' * bool(wrong)}", moves, login=True,
                    contact=index if wrong else None, wrong_passwords=wrong, logs_in=wrong < 3)
    if wrong >= 3:
        script.name = "locked-out"
        return script
    outcome = rng.choice(ANSWERS)
    moves.append(Move("keys", contact.password + "#",
                      Expect("Dial", "/voice/dialed", (welcome(contact, t),))))
    moves += transfer(outcome, t)
    return script


def ticket_call(rng: random.Random, pool: ContactPool, data: LoadData, t: Texts) -> Script:
    """A ticket number keyed at the main menu, the login, the status; then back to the main
    menu and option 7, or a hang-up."""
    index = pool.any()
    contact = pool.contacts[index]
    foreign = data.foreign_ticket is not None and rng.random() < 0.1
    number = data.foreign_ticket if foreign else rng.choice(contact.tickets or ("00000000",))
    assert number is not None
    moves = [Move("keys", number, Expect("Gather", CPF, (t.ask_cpf,))),
             Move("keys", contact.cpf + "#", Expect("Gather", PASSWORD))]
    if foreign or not contact.tickets:
        moves.append(Move("keys", contact.password + "#",
                          Expect("Gather", "", (welcome(contact, t), t.not_found))))
        return Script("ticket-not-found", moves, login=True, logs_in=True)
    spoken = "Chamado número " + " ".join(number)
    moves.append(Move("keys", contact.password + "#",
                      Expect("Gather", TICKET_ACTION, (welcome(contact, t), spoken))))
    if rng.random() < 0.5:
        moves.append(Move("keys", "0", Expect("Gather", STEP)))
        moves.append(Move("keys", "7", Expect("Dial", "/voice/dialed")))
        moves += transfer("completed", t)
    return Script("ticket", moves, login=True, logs_in=True)


def lost_caller(rng: random.Random, t: Texts) -> Script:
    """An invalid key or a silence at the main menu, then option 7."""
    if rng.random() < 0.5:
        first = Move("keys", "5", Expect("Gather", STEP, (t.invalid,)))
    else:
        first = Move("silence", "", Expect("Gather", STEP, (t.silence,)))
    moves = [first, Move("keys", "7", Expect("Dial", "/voice/dialed"))]
    return Script("invalid-or-silence", moves + transfer("completed", t))


MIXES: dict[str, tuple[tuple[str, float], ...]] = {
    # What a support line hears: most callers go to a team (behind the login) or to option 7.
    "realistic": (("cadastro", 0.25), ("team", 0.33), ("ticket", 0.2), ("team-wrong", 0.1),
                  ("locked-out", 0.02), ("lost", 0.1)),
    "no-login": (("cadastro", 0.7), ("lost", 0.3)),
    "login": (("team", 0.6), ("ticket", 0.4)),
}


def make_script(kind: str, rng: random.Random, pool: ContactPool, data: LoadData, t: Texts
                ) -> Script:
    if kind == "cadastro":
        return cadastro(rng, t)
    if kind == "team":
        return team_call(rng, pool, 0, t)
    if kind == "team-wrong":
        return team_call(rng, pool, rng.choice((1, 1, 2)), t)
    if kind == "locked-out":
        return team_call(rng, pool, 3, t)
    if kind == "ticket":
        return ticket_call(rng, pool, data, t)
    return lost_caller(rng, t)


# -- the provider's side of a call -------------------------------------------------------------


@dataclass
class Page:
    """A TwiML document as the caller meets it: the words heard (redirects followed), the verb
    that waits for the caller, and where the next request goes."""

    verb: str
    action: str | None
    heard: str
    pause_seconds: float
    gather: dict[str, str]
    after_silence: str | None  # the Redirect after a Gather: where silence goes

    @classmethod
    def parse(cls, body: bytes, heard_before: str = "") -> Page:
        root = ET.fromstring(body)
        words = [heard_before] if heard_before else []
        pause = 0.0
        verb, action, gather, after = "Hangup", None, {}, None
        for element in root:
            if element.tag == "Say":
                words.append(element.text or "")
            elif element.tag == "Pause":
                pause += float(element.attrib.get("length", "1"))
            elif element.tag in {"Gather", "Dial", "Record"} and verb == "Hangup":
                verb, action = element.tag, _local(element.attrib.get("action"))
                if element.tag == "Gather":
                    gather = dict(element.attrib)
                    words += [(say.text or "") for say in element.iter("Say")]
                    pause += sum(float(p.attrib.get("length", "1")) for p in element.iter("Pause"))
                if element.tag == "Dial":
                    gather = dict(element.attrib)
            elif element.tag == "Redirect":
                if verb == "Hangup":
                    verb, action = "Redirect", _local(element.text)
                elif verb == "Gather":
                    after = _local(element.text)
            if verb in {"Dial", "Record"}:
                break
        return cls(verb, action, " ".join(words), pause, gather, after)


def _local(url: str | None) -> str | None:
    """An action URL as a path and query: with PUBLIC_BASE_URL set the app writes them whole,
    and the driver sends them to whichever instance it picks (signing for the public URL)."""
    if url is None or not url.startswith(("http://", "https://")):
        return url
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


@dataclass
class Step:
    kind: str  # the webhook's path
    seconds: float
    at: float = field(default_factory=time.monotonic)  # when the answer came


@dataclass
class CallResult:
    script: str
    ok: bool
    problem: str = ""
    transcript: list[str] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    started: float = 0.0
    ended: float = 0.0
    in_ivr_seconds: float = 0.0
    call_sid: str = ""
    fallbacks: list[str] = field(default_factory=list)  # webhooks failed: the fallback URL
    resumed: int = 0  # answers where the line apologized and went on (lost an answer)


class Servers:
    """Signs and sends webhooks, each to one of the base URLs at random."""

    def __init__(self, session: aiohttp.ClientSession, bases: Sequence[str], token: str,
                 public_base: str | None, rng: random.Random) -> None:
        self.session = session
        self.bases = [base.rstrip("/") for base in bases]
        self.validator = RequestValidator(token)
        self.public_base = public_base.rstrip("/") if public_base else None
        self.rng = rng

    def public_url(self, path: str) -> str:
        """The URL the provider would have asked for ``path`` (a fallback's ErrorUrl)."""
        return (self.public_base or self.bases[0]) + path

    async def post(self, path: str, form: dict[str, str]) -> tuple[int, bytes, float]:
        base = self.rng.choice(self.bases)
        signature = self.validator.compute_signature((self.public_base or base) + path, form)
        started = time.perf_counter()
        async with self.session.post(
            base + path, data=urlencode(form).encode(),
            headers={"X-Twilio-Signature": signature,
                     "Content-Type": "application/x-www-form-urlencoded"},
        ) as response:
            body = await response.read()
        return response.status, body, time.perf_counter() - started


class Pacing:
    """How long a person takes: ``scale`` 1 is real time, 0 no waiting at all."""

    def __init__(self, scale: float, talk_seconds: float, rng: random.Random) -> None:
        self.scale = scale
        self.talk_seconds = talk_seconds
        self.rng = rng

    async def wait(self, seconds: float) -> None:
        if self.scale > 0 and seconds > 0:
            await asyncio.sleep(seconds * self.scale)

    def listening(self, page: Page, barge_in: bool) -> float:
        spoken = len(page.heard) / CHARS_PER_SECOND + page.pause_seconds
        # Callers who know their key press it before the prompt ends (the Gather allows it).
        return spoken * (self.rng.uniform(0.4, 1.0) if barge_in else 1.0)

    def keying(self, keys: str, page: Page) -> float:
        seconds = self.rng.uniform(0.5, 1.5) + len(keys) * self.rng.uniform(0.25, 0.45)
        wanted = page.gather.get("numDigits")
        ended = keys.endswith("#") or (wanted is not None and len(keys) >= int(wanted))
        if not ended:  # the provider waits out the Gather's timeout for more keys
            seconds += float(page.gather.get("timeout", "5"))
        return seconds

    def silence(self, page: Page) -> float:
        return float(page.gather.get("timeout", "5"))

    def dial(self, outcome: str, page: Page) -> float:
        if outcome == "completed":
            # exponential, as call lengths are, cut at 4 means so a run's tail stays short
            talk = min(self.rng.expovariate(1 / self.talk_seconds), 4 * self.talk_seconds)
            return self.rng.uniform(2, 10) + talk
        if outcome == "busy":
            return self.rng.uniform(2, 6)
        return float(page.gather.get("timeout", "30"))

    def message(self) -> float:
        return self.rng.uniform(5, 30)


@dataclass
class Line:
    """What the whole run shares about the calls on the line."""

    with_people: int = 0  # calls ringing a person, talking to one or leaving a message


class Call:
    """One caller playing one script; hangs up early at ``hang_up_at`` (a move's index)."""

    def __init__(self, servers: Servers, pacing: Pacing, line: Line, script: Script,
                 hang_up_at: int | None, rng: random.Random, apology: str) -> None:
        self.servers = servers
        self.apology = apology
        self.line = line
        self.pacing = pacing
        self.script = script
        self.hang_up_at = hang_up_at
        self.rng = rng
        self.call_sid = "CA" + secrets.token_hex(16)
        self.caller = f"+55{rng.randrange(11, 99)}9{rng.randrange(10**8):08d}"
        self.result = CallResult(script.name, ok=True, call_sid=self.call_sid)

    def form(self, **extra: str) -> dict[str, str]:
        return {"AccountSid": "AC" + "1" * 32, "ApiVersion": "2010-04-01",
                "CallSid": self.call_sid, "CallStatus": "in-progress", "Direction": "inbound",
                "From": self.caller, "Caller": self.caller, "To": "+551140030015",
                "Called": "+551140030015", **extra}

    async def request(self, path: str, extra: dict[str, str] | None = None) -> Page | None:
        """One webhook and the redirects that follow it, as the provider would fetch them; a
        webhook that fails is followed by the fallback URL, as the provider does."""
        heard = ""
        while True:
            kind = path.split("?")[0]
            page, problem = await self._fetch(path, self.form(**(extra or {})), heard)
            if problem is not None:
                page = await self._fallback(path, extra, problem, heard)
            if page is None:
                return None
            if self.apology and self.apology in page.heard and page.verb != "Hangup":
                # A webhook failed and the line goes on (fallback URL or the proxy's second
                # try): the apology is the line's, not the script's; the page is judged
                # without it. An apology and a hang-up is the call failing.
                self.result.resumed += 1
                page = replace(page, heard=page.heard.replace(self.apology, "").strip())
            self.result.transcript.append(f"{kind} -> {page.verb}: {page.heard[-160:]}")
            if page.verb != "Redirect":
                return page
            await self.pacing.wait(self.pacing.listening(page, barge_in=False))
            heard, path, extra = page.heard, page.action or "/voice", None

    async def _fetch(self, path: str, form: dict[str, str], heard: str
                     ) -> tuple[Page | None, str | None]:
        """The page ``path`` answers, or what went wrong."""
        kind = path.split("?")[0]
        try:
            status, body, seconds = await self.servers.post(path, form)
        except (TimeoutError, aiohttp.ClientError) as error:
            return None, f"{kind}: {type(error).__name__}: {error}"
        self.result.steps.append(Step(kind, seconds))
        if status != 200:
            return None, f"{kind}: HTTP {status}: {body[:200]!r}"
        try:
            return Page.parse(body, heard), None
        except ET.ParseError as error:
            return None, f"{kind}: not TwiML ({error}): {body[:200]!r}"

    async def _fallback(self, path: str, extra: dict[str, str] | None, problem: str,
                        heard: str) -> Page | None:
        """The provider's fallback URL after ``path`` failed: the same fields, with the error
        and the failed URL. When that fails too the caller hears the provider's error message
        and the call is over: a failed call."""
        self.result.fallbacks.append(problem)
        form = self.form(**(extra or {}), ErrorCode="11200",
                         ErrorUrl=self.servers.public_url(path))
        page, failed = await self._fetch("/voice/fallback", form, heard)
        if page is None:
            return self.fail(f"{problem}; then the fallback URL: {failed}")
        return page

    def fail(self, problem: str) -> Page | None:
        """Records the call's first problem; None, for ``return self.fail(...)``."""
        if self.result.ok:
            self.result.ok = False
            self.result.problem = problem
        return None

    async def play(self) -> CallResult:
        self.result.started = time.monotonic()
        in_ivr = 0.0
        answered: dict[str, dict[str, str]] = {}  # each webhook's last answer, by path
        page = await self.request("/voice")
        if page is not None and (problem := Expect("Gather", STEP).problem(page)):
            page = self.fail(f"the welcome: {problem}")
        for index, move in enumerate(self.script.moves):
            if page is None:
                break
            if index == self.hang_up_at:  # somewhere in the prompt, the caller hangs up
                await self.pacing.wait(self.pacing.listening(page, barge_in=True))
                self.result.script += "+hangup"
                break
            waited, extra, path = self.act(move, page)
            if move.kind in {"keys", "silence"}:
                in_ivr += waited
                await self.pacing.wait(waited)
            else:  # ringing, talking to a person, leaving a message
                self.line.with_people += 1
                try:
                    await self.pacing.wait(waited)
                finally:
                    self.line.with_people -= 1
            if path is None:
                self.fail(f"move {index} ({move.kind} {move.value!r}): nowhere to go "
                          f"from <{page.verb}>")
                break
            resumed = self.result.resumed
            page = await self.request(path, extra)
            answered[path.split("?")[0]] = extra
            if self.result.resumed > resumed:
                page = await self.answer_again(page, path, extra, answered)
            if page is not None and (problem := move.expect.problem(page)):
                page = self.fail(f"move {index} ({move.kind} {_shown(move)}): {problem}")
        else:
            if page is not None:  # the script is done: hear the last words, then hang up
                await self.pacing.wait(self.pacing.listening(page, barge_in=False))
        self.result.ended = time.monotonic()
        self.result.in_ivr_seconds = in_ivr
        await self.end()
        return self.result

    async def answer_again(self, page: Page | None, path: str, extra: dict[str, str],
                           answered: dict[str, dict[str, str]]) -> Page | None:
        """After the line lost an answer: the person answers again what it asks again, the
        same prompt (``path``) or the login from its CPF on, then the script goes on."""
        for _ in range(3):
            if page is None or page.verb != "Gather" or page.action is None:
                return page
            kind = page.action.split("?")[0]
            if page.action == path:
                again = extra
            elif kind in (CPF, PASSWORD) and kind in answered:
                again = answered[kind]
            else:
                return page
            keys = again.get("Digits", "") + again.get("FinishedOnKey", "")
            await self.pacing.wait(self.pacing.listening(page, barge_in=True)
                                   + self.pacing.keying(keys, page))
            page = await self.request(page.action, again)
        return page

    def act(self, move: Move, page: Page) -> tuple[float, dict[str, str], str | None]:
        """Seconds the move takes, the fields it adds and where it is posted."""
        if move.kind == "keys":
            keys = move.value
            waited = self.pacing.listening(page, barge_in=True) + self.pacing.keying(keys, page)
            finished = "#" * keys.endswith("#")
            return waited, {"Digits": keys.rstrip("#"), "FinishedOnKey": finished}, page.action
        if move.kind == "silence":
            waited = self.pacing.listening(page, barge_in=False) + self.pacing.silence(page)
            return waited, {}, page.after_silence
        if move.kind == "dial":
            waited = (self.pacing.listening(page, barge_in=False)
                      + self.pacing.dial(move.value, page))
            extra = {"DialCallStatus": move.value}
            if move.value == "completed":
                extra["DialCallDuration"] = str(round(waited))
                # The caller ends the talk: the provider then asks the action URL with the call
                # over. (When the person hangs up first, the caller would stay for the survey.)
                extra["CallStatus"] = "completed"
            return waited, extra, page.action
        waited = self.pacing.listening(page, barge_in=False) + self.pacing.message()
        return waited, {"RecordingUrl": f"https://api.example.com/recordings/RE{self.call_sid[2:]}",
                        "RecordingDuration": str(round(waited))}, page.action

    async def end(self) -> None:
        """The provider's status callback when the call is over."""
        duration = str(round(self.result.ended - self.result.started))
        try:
            status, body, seconds = await self.servers.post(
                "/voice/status", self.form(CallStatus="completed", CallDuration=duration))
        except (TimeoutError, aiohttp.ClientError) as error:
            self.fail(f"/voice/status: {type(error).__name__}: {error}")
            return
        self.result.steps.append(Step("/voice/status", seconds))
        if status >= 300:
            self.fail(f"/voice/status: HTTP {status}: {body[:200]!r}")


def _shown(move: Move) -> str:
    """A move for a report line: no password or CPF digits."""
    if move.kind == "keys" and len(move.value.rstrip("#")) > 3:
        return f"{len(move.value.rstrip('#'))} digits"
    return repr(move.value)


# -- the servers' CPU ---------------------------------------------------------------------------


def process_tree_cpu_seconds(roots: Sequence[int]) -> float | None:
    """CPU (user + system) of each root process and every process below it, those that ended
    included: a process's cutime and cstime hold the CPU of the children it reaped (a gunicorn
    master its killed workers', PostgreSQL's postmaster its ended backends')."""
    if not roots or not Path("/proc/self/stat").exists():
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    cpu: dict[int, int] = {}
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The command may hold spaces: the fields are counted after its closing ")".
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # ended meanwhile
        pid, ppid = int(stat.parent.name), int(fields[1])
        cpu[pid] = sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
        children.setdefault(ppid, []).append(pid)
    total, below = 0, [root for root in roots if root in cpu]
    while below:
        pid = below.pop()
        total += cpu[pid]
        below += children.get(pid, [])
    return total / ticks


# -- the run ------------------------------------------------------------------------------------


@dataclass
class RunOptions:
    base_urls: Sequence[str]
    token: str
    data: LoadData = field(default_factory=LoadData.demo)
    public_url: str | None = None
    rate: float | None = None  # calls a second; or:
    callers: int = 50  # the calls to keep on the line
    seconds: float = 60.0  # how long calls keep arriving
    max_calls: int | None = None  # stop arrivals after this many calls
    pace: float = 1.0
    talk_seconds: float = 60.0  # mean conversation of an answered transfer
    call_seconds: float = 120.0  # a first guess of a call's length at pace 1 (for --callers)
    hang_up_share: float = 0.1  # calls cut short at a random move
    mix: str = "realistic"
    server_pids: Sequence[int] = ()
    menus: Path = ROOT / "menus.yaml"  # the file the servers serve: what callers should hear
    seed: int | None = None
    timeout: float = 15.0


@dataclass
class Report:
    calls: list[CallResult]
    wall_seconds: float
    arrival_seconds: float
    concurrency: list[int]  # calls on the line, sampled every second
    in_ivr: list[int]  # of those, not talking to a person
    cpu_seconds: float | None

    @property
    def failed(self) -> list[CallResult]:
        return [call for call in self.calls if not call.ok]

    def latencies(self) -> dict[str, list[float]]:
        by_kind: dict[str, list[float]] = {}
        for call in self.calls:
            for step in call.steps:
                by_kind.setdefault(step.kind, []).append(step.seconds)
        return by_kind

    def percentile_ms(self, kind: str | None, percent: float) -> float:
        values = sorted(v for k, vs in self.latencies().items() if kind in (None, k) for v in vs)
        return percentile(values, percent) * 1000

    def step_p99_ms(self) -> float:
        """p99 of every step but the login's (whose bcrypt has its own bar)."""
        values = sorted(v for k, vs in self.latencies().items() if k != LOGIN_PATH for v in vs)
        return percentile(values, 99) * 1000

    def as_dict(self) -> dict[str, object]:
        lat = self.latencies()
        return {
            "calls": len(self.calls), "failed": len(self.failed),
            "calls_per_second": len(self.calls) / self.arrival_seconds
            if self.arrival_seconds else 0.0,
            "concurrent_mean": _mean(self.concurrency), "concurrent_max": max(self.concurrency,
                                                                              default=0),
            "concurrent_held": self.held(),
            "in_ivr_mean": _mean(self.in_ivr),
            "call_seconds_mean": _mean([call.ended - call.started for call in self.calls]),
            "step_p99_ms": self.step_p99_ms(),
            "login_p50_ms": self.percentile_ms(LOGIN_PATH, 50),
            "login_p99_ms": self.percentile_ms(LOGIN_PATH, 99),
            "steps": {kind: {"n": len(values), "p50_ms": percentile(sorted(values), 50) * 1000,
                             "p99_ms": percentile(sorted(values), 99) * 1000}
                      for kind, values in sorted(lat.items())},
            "cpu_ms_per_call": self.cpu_ms_per_call(),
            "busiest_call_minute": self.busiest_minute(),
            "fallbacks": sum(len(call.fallbacks) for call in self.calls),
            "calls_resumed": sum(1 for call in self.calls if call.resumed),
            "unexpected": [f"{call.script}: {call.problem}" for call in self.failed],
        }

    def held(self) -> int:
        """The calls on the line that the second half of the arrivals kept at least 90% of the
        time (the first half fills the line): what the run held, not a peak."""
        arriving = self.concurrency[int(self.arrival_seconds / 2):int(self.arrival_seconds)]
        return sorted(arriving)[len(arriving) // 10] if arriving else 0

    def busiest_minute(self) -> int:
        """The most webhooks one call made within 60 s (what RATE_LIMIT_PER_CALL must allow)."""
        most = 0
        for call in self.calls:
            times = [step.at for step in call.steps]
            start = 0
            for end, moment in enumerate(times):
                while moment - times[start] > 60:
                    start += 1
                most = max(most, end - start + 1)
        return most

    def cpu_ms_per_call(self) -> float | None:
        if self.cpu_seconds is None or not self.calls:
            return None
        return self.cpu_seconds / len(self.calls) * 1000

    def text(self) -> str:
        data = self.as_dict()
        lines = [
            f"{data['calls']} calls, {data['failed']} not as scripted; "
            f"{data['calls_per_second']:.2f} calls/s arriving over {self.arrival_seconds:.0f} s",
            f"on the line: held {data['concurrent_held']} (90% of the second half of the "
            f"arrivals), mean {data['concurrent_mean']:.0f}, max {data['concurrent_max']} "
            f"(in the menus, not with a person: mean {data['in_ivr_mean']:.0f}); a call lasts "
            f"{data['call_seconds_mean']:.0f} s on average",
            f"steps but the login: p99 {data['step_p99_ms']:.1f} ms; login (password step): "
            f"p50 {data['login_p50_ms']:.0f} ms, p99 {data['login_p99_ms']:.0f} ms",
        ]
        if data["cpu_ms_per_call"] is not None:
            lines.append(f"server CPU per whole call: {data['cpu_ms_per_call']:.1f} ms "
                         f"({self.cpu_seconds:.1f} s over {data['calls']} calls)")
        lines.append(f"most webhooks of one call within a minute: {data['busiest_call_minute']}")
        lines.append(f"webhooks that failed (the provider then asks the fallback URL): "
                     f"{data['fallbacks']}; calls where the line apologized and went on: "
                     f"{data['calls_resumed']}")
        lines.append(f"{'step':<36} {'n':>7} {'p50 ms':>8} {'p99 ms':>8}")
        steps = data["steps"]
        assert isinstance(steps, dict)
        for kind, row in steps.items():
            lines.append(f"{kind:<36} {row['n']:>7} {row['p50_ms']:>8.1f} {row['p99_ms']:>8.1f}")
        scripts: dict[str, int] = {}
        for call in self.calls:
            name = call.script.split("+")[0]
            scripts[name] = scripts.get(name, 0) + 1
        lines.append("scripts: " + ", ".join(f"{k} {v}" for k, v in sorted(scripts.items())))
        for call in self.failed:
            lines.append(f"UNEXPECTED {call.script}: {call.problem}")
            lines += [f"    {line}" for line in call.transcript[-4:]]
        return "\n".join(lines)


def percentile(sorted_values: Sequence[float], percent: float) -> float:
    if not sorted_values:
        return math.nan
    index = min(len(sorted_values) - 1, max(0, math.ceil(len(sorted_values) * percent / 100) - 1))
    return sorted_values[index]


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


async def _run(options: RunOptions) -> Report:
    rng = random.Random(options.seed)
    pool = ContactPool(options.data.contacts, rng)
    texts = Texts.of(load_menu(options.menus))
    pacing = Pacing(options.pace, options.talk_seconds, rng)
    kinds, weights = zip(*MIXES[options.mix], strict=True)
    connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=30)
    timeout = aiohttp.ClientTimeout(total=options.timeout)
    results: list[CallResult] = []
    live: set[asyncio.Task[CallResult]] = set()
    line = Line()
    concurrency: list[int] = []
    ivr_samples: list[int] = []
    durations: list[float] = []
    live_since: dict[asyncio.Task[CallResult], float] = {}

    def forget(task: asyncio.Task[CallResult]) -> None:
        live.discard(task)
        live_since.pop(task, None)

    async def one_call(script: Script, hang_up_at: int | None) -> CallResult:
        call = Call(servers, pacing, line, script, hang_up_at, random.Random(rng.random()),
                    texts.apology)
        try:
            result = await call.play()
        except Exception as error:  # noqa: BLE001 - a bug of the driver's own: a failed call
            call.fail(f"the driver failed: {type(error).__name__}: {error}")
            result = call.result
            result.ended = time.monotonic()
        finally:
            if script.contact is not None:
                logged_in = call.result.ok and script.logs_in and call.result.script == script.name
                pool.release(script.contact, script.wrong_passwords, logged_in)
        results.append(result)
        durations.append(result.ended - result.started)
        return result

    def arrival_rate() -> float:
        if options.rate:
            return options.rate
        # Little's law: calls on the line = arrival rate x mean call length. The length is the
        # larger of the guess and what the run has seen so far, the time of calls still on
        # the line counted (early finishers alone are the short calls, and an overloaded server
        # that fails calls fast would otherwise call for ever more of them).
        elapsed = time.monotonic() - started
        seen = sum(durations) + sum(elapsed - began for began in live_since.values())
        mean = max(options.call_seconds * max(options.pace, 0.01),
                   seen / max(len(durations) + len(live_since), 1))
        # That rate alone leaves the line hovering under the target (calls end in bunches, and
        # the guess of their length is a guess): below it, callers arrive faster, up to half
        # again as fast, so the line holds the target; the wait below keeps it from passing.
        short = max(0.0, options.callers - len(live)) / options.callers
        return max(0.05, options.callers / mean * (1 + min(0.5, 2 * short)))

    async def sample() -> None:
        while True:
            concurrency.append(len(live))
            ivr_samples.append(len(live) - line.with_people)
            await asyncio.sleep(1)

    cpu_before = process_tree_cpu_seconds(options.server_pids)
    started = time.monotonic()
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        servers = Servers(session, options.base_urls, options.token, options.public_url, rng)
        sampler = asyncio.create_task(sample())
        placed = 0
        while time.monotonic() - started < options.seconds and (
                options.max_calls is None or placed < options.max_calls):
            kind = rng.choices(kinds, weights)[0]
            script = make_script(kind, rng, pool, options.data, texts)
            hang_up_at = (rng.randrange(len(script.moves))
                          if rng.random() < options.hang_up_share and script.moves else None)
            task = asyncio.create_task(one_call(script, hang_up_at))
            live.add(task)
            live_since[task] = time.monotonic()
            task.add_done_callback(forget)
            placed += 1
            await asyncio.sleep(rng.expovariate(arrival_rate()))
            while options.rate is None and len(live) >= options.callers:
                await asyncio.sleep(0.05)  # at the target: the next caller waits for a free line
        arrival_seconds = time.monotonic() - started
        if live:
            await asyncio.gather(*live, return_exceptions=True)
        sampler.cancel()
    cpu_after = process_tree_cpu_seconds(options.server_pids)
    cpu = cpu_after - cpu_before if cpu_before is not None and cpu_after is not None else None
    return Report(results, time.monotonic() - started, arrival_seconds, concurrency,
                  ivr_samples, cpu)


def run_load(options: RunOptions) -> Report:
    return asyncio.run(_run(options))


# -- prepare: contacts with known passwords, and tickets ---------------------------------------


def prepare(database_url: str, contacts: int, tickets: int, out: Path) -> LoadData:
    """``contacts`` contacts with known passwords over the companies of ``load_tickets.py``
    (which loads ``tickets`` tickets first), the demo data too; their data written to ``out``."""
    import subprocess

    from sqlalchemy import select

    from app import import_sections
    from auth.documents import is_valid_cpf
    from auth.models import Company
    from auth.models import Contact as ContactRow
    from auth.passwords import Pepper, hash_password, password_problem, pepper_id
    from config import ServerConfig
    from database.migrate import upgrade
    from database.session import Database
    from importer.run import import_data
    from tickets.models import Ticket

    upgrade(database_url)
    config = ServerConfig.from_env()
    if tickets:
        subprocess.run([sys.executable, str(LOAD_TICKETS), "--count", str(tickets), "--replace",
                        "--database-url", database_url], cwd=ROOT, check=True)
    database = Database(database_url)
    pepper = Pepper(config.password_pepper.encode()) if config.password_pepper else None
    import_data(database, json.loads(DEMO_DATA.read_text()), sections=import_sections(pepper),
                rounds=config.bcrypt_rounds)
    rng = random.Random(20261205)
    # A few passwords, each hashed once (bcrypt at the servers' cost is slow): many contacts
    # share each hash, which only a load test may do.
    passwords: list[str] = []
    while len(passwords) < 8:
        candidate = f"{rng.randrange(10**6):06d}"
        if password_problem(candidate) is None:
            passwords.append(candidate)
    hashes = {p: hash_password(p, config.bcrypt_rounds, pepper) for p in passwords}
    with database.transaction() as session:
        company_rows = session.execute(select(Company.id, Company.cnpj)).all()
        by_company: dict[int, list[str]] = {}
        for company_id, number in session.execute(
                select(Ticket.company_id, Ticket.number).order_by(Ticket.number)):
            if len(by_company.setdefault(company_id, [])) < 20:
                by_company[company_id].append(number)
        existing = set(session.scalars(select(ContactRow.cpf)))
        made: list[Contact] = []
        serial = 0
        while len(made) < contacts:
            serial += 1
            cpf = _cpf_for(serial)
            company_id = company_rows[serial % len(company_rows)].id
            password = passwords[serial % len(passwords)]
            if cpf not in existing:
                session.add(ContactRow(cpf=cpf, name=f"Carga {serial}", company_id=company_id,
                                       password_hash=hashes[password],
                                       password_pepper=pepper_id(pepper)))
            assert is_valid_cpf(cpf)
            made.append(Contact(cpf, password, "Carga", tuple(by_company.get(company_id, ()))))
    database.dispose()
    data = LoadData(tuple(made), None)
    data.write(out)
    return data


def _cpf_for(serial: int) -> str:
    """A valid CPF from a serial number (body 9 digits, then the two check digits)."""
    return complete_cpf(f"{700_000_000 + serial:09d}")


# -- command line -------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    prep = commands.add_parser("prepare", help="contacts with known passwords, and tickets")
    prep.add_argument("--database-url", required=True)
    prep.add_argument("--contacts", type=int, default=2000)
    prep.add_argument("--tickets", type=int, default=0,
                      help="load N tickets with scripts/load_tickets.py first (it replaces "
                           "the synthetic tickets)")
    prep.add_argument("--out", type=Path, required=True, help="the data file for run --data")
    run = commands.add_parser("run", help="place the calls")
    run.add_argument("--base-url", action="append", required=True,
                     help="an instance or the proxy; repeat to spread each call's requests")
    run.add_argument("--token", default=os.environ.get("TWILIO_AUTH_TOKEN"),
                     help="the servers' TWILIO_AUTH_TOKEN (default: from the environment)")
    run.add_argument("--public-url", help="the URL to sign for (the servers' PUBLIC_BASE_URL); "
                                          "default: each base URL")
    run.add_argument("--data", type=Path, help="from prepare (default: the demo data)")
    load = run.add_mutually_exclusive_group()
    load.add_argument("--callers", type=int, default=50,
                      help="calls to keep on the line (arrival rate follows)")
    load.add_argument("--rate", type=float, help="calls a second instead (Poisson arrivals)")
    run.add_argument("--seconds", type=float, default=60, help="how long calls keep arriving")
    run.add_argument("--max-calls", type=int, help="stop arrivals after this many calls")
    run.add_argument("--pace", type=float, default=1.0,
                     help="1: a person's pace; 0: no waits; 0.1: ten times faster")
    run.add_argument("--talk-seconds", type=float, default=60.0,
                     help="mean conversation of an answered transfer (seconds at pace 1)")
    run.add_argument("--call-seconds", type=float, default=120.0,
                     help="first guess of a call's mean length at pace 1, for --callers "
                          "(replaced by what the run measures once longer)")
    run.add_argument("--hang-up-share", type=float, default=0.1,
                     help="share of calls cut short at a random move")
    run.add_argument("--mix", choices=sorted(MIXES), default="realistic")
    run.add_argument("--server-pid", type=int, action="append", default=[],
                     help="a server's pid, a gunicorn master's (repeat): CPU per call of it "
                          "and its processes, from /proc")
    run.add_argument("--menus", type=Path, default=ROOT / "menus.yaml",
                     help="the menu file the servers serve (what callers should hear)")
    run.add_argument("--seed", type=int)
    run.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args(argv)
    if args.command == "run" and not args.token:
        parser.error("--token or TWILIO_AUTH_TOKEN is needed to sign the webhooks")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.command == "prepare":
        data = prepare(args.database_url, args.contacts, args.tickets, args.out)
        print(f"{len(data.contacts)} contacts written to {args.out}")
        return 0
    options = RunOptions(
        base_urls=args.base_url, token=args.token,
        data=LoadData.read(args.data) if args.data else LoadData.demo(),
        public_url=args.public_url, rate=args.rate, callers=args.callers, seconds=args.seconds,
        max_calls=args.max_calls, pace=args.pace, talk_seconds=args.talk_seconds,
        call_seconds=args.call_seconds,
        hang_up_share=args.hang_up_share, mix=args.mix, server_pids=args.server_pid,
        menus=args.menus, seed=args.seed,
    )
    report = run_load(options)
    print(report.text())
    if args.json:
        args.json.write_text(json.dumps(report.as_dict(), indent=2))
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
