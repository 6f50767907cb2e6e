"""Callers for the fault drills: whole calls played through the proxy as the provider plays them,
and what they heard, checked against the database afterwards.

Each caller thread plays scripted calls one after another (browsing to a transfer, logging in
and leaving a message, a wrong password, a ticket), pausing between steps. Like the provider, a
webhook that fails (an error status, a cut connection, a broken document) is followed by the
fallback URL; a fallback that fails too ends the call (the caller heard the provider's error).
"""

from __future__ import annotations

import random
import threading
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlencode

from sqlalchemy import create_engine, text
from twilio.request_validator import RequestValidator

from auth.documents import complete_cpf

AUTH_TOKEN = "drill-auth-token"
APOLOGY = "Desculpe, tivemos um problema."
MARIA_CPF, MARIA_PASSWORD = "52998224725", "482913"
DRILL_COMPANY = "11222333000181"
WRONG_PASSWORD = "739164"
# bcrypt cost 10 of "271828": the drill contacts' password, never keyed (only wrong ones are).
DRILL_HASH = "$2b$10$g0PMqmZlVyjb.BrclRLmy.xPPRSkgEyTGrriJY79HbBnkoLKPOb.W"


def cpf(number: int) -> str:
    """A valid CPF (check digits computed) from a 9-digit base."""
    return complete_cpf(f"{number:09d}")


DRILL_CPFS = [cpf(310_000_000 + 7919 * n) for n in range(400)]
RUNS = 8  # drills on one database at most (tests/test_drills.py runs several)


def drill_contacts() -> list[dict[str, object]]:
    """Contacts that only ever get wrong passwords: their failure counts are checked after."""
    return [{"cpf": one, "name": f"Drill {n}", "company": DRILL_COMPANY,
             "password_hash": DRILL_HASH} for n, one in enumerate(DRILL_CPFS)]


@dataclass(frozen=True)
class Script:
    kind: str
    keys: tuple[str, ...]  # one item per prompt; the call hangs up when they run out
    dial: str = "completed"  # what a transfer gives
    wrong_password: bool = False


SCRIPTS = (
    Script("browse", ("2", "2", "3", "9", "9", "0", "7")),
    Script("login", ("2", "2", "3", "9", "9", "1", MARIA_CPF, MARIA_PASSWORD), dial="no-answer"),
    Script("wrong_password", ("1", "", WRONG_PASSWORD), wrong_password=True),
    Script("ticket", ("12345678", MARIA_CPF, MARIA_PASSWORD)),
)


@dataclass
class Step:
    url: str
    started: float
    ended: float = 0.0
    status: int | None = None  # None: no answer (cut connection, timeout)
    heard: str = ""
    fallback: bool = False  # the provider had to call the fallback URL
    fallback_failed: bool = False
    silent: bool = False

    @property
    def disturbed(self) -> bool:
        return self.fallback or APOLOGY in self.heard or self.silent


@dataclass
class Call:
    sid: str
    script: Script
    caller: str
    cpf: str = ""
    steps: list[Step] = field(default_factory=list)
    failed: str = ""
    # Wrong passwords answered as such, and those whose answer was lost (counted or not).
    wrong_answered: int = 0
    wrong_uncertain: int = 0
    started: float = 0.0
    ended: float = 0.0

    @property
    def disturbed(self) -> bool:
        return bool(self.failed) or any(step.disturbed for step in self.steps)


class Provider:
    """Signs and posts webhooks to the proxy as the provider does."""

    def __init__(self, base: str, token: str = AUTH_TOKEN) -> None:
        self.base = base
        self.validator = RequestValidator(token)

    def post(self, path: str, form: dict[str, str], timeout: float = 15
             ) -> tuple[int | None, bytes]:
        url = path if path.startswith("http") else self.base + path
        request = urllib.request.Request(
            url, data=urlencode(form).encode(), method="POST",
            headers={"X-Twilio-Signature": self.validator.compute_signature(url, form),
                     "Content-Type": "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()
        except (urllib.error.URLError, OSError):
            return None, b""


def parse(body: bytes) -> ET.Element | None:
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None
    return root if root.tag == "Response" else None


def spoken(root: ET.Element) -> str:
    return " ".join((say.text or "").strip() for say in root.iter("Say"))


def form_of(call: Call, **extra: str) -> dict[str, str]:
    return {"AccountSid": "AC" + "1" * 32, "CallSid": call.sid, "CallStatus": "in-progress",
            "From": call.caller, "To": "+551140030015", "Caller": call.caller,
            "Called": "+551140030015", "Direction": "inbound", **extra}


class Traffic:
    """``callers`` threads playing calls through ``base`` until stopped."""

    def __init__(self, base: str, callers: int = 24, pace: tuple[float, float] = (0.05, 0.3),
                 run: int = 0) -> None:
        """``run``: a number of its own for each Traffic on one database, so the CallSids,
        calling numbers and drill contacts of two runs never meet."""
        self.provider = Provider(base)
        self.callers = callers
        self.pace = pace
        self.run = run
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._count = 0
        # Each drill contact gets at most 3 wrong passwords in a run: never locked.
        share = len(DRILL_CPFS) // RUNS
        self._cpfs = iter(DRILL_CPFS[run * share:(run + 1) * share] * 3)

    def start(self) -> None:
        for n in range(self.callers):
            thread = threading.Thread(target=self._run, args=(random.Random(n),), daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def _next_call(self, rng: random.Random) -> Call:
        with self._lock:
            self._count += 1
            number = self._count
            script = rng.choices(SCRIPTS, weights=(4, 2, 1, 2))[0]
            drill_cpf = next(self._cpfs, "") if script.wrong_password else ""
            if script.wrong_password and not drill_cpf:
                script = SCRIPTS[0]  # this run's drill contacts have had their share
        return Call(sid=f"CA{self.run:08x}{number:024x}", script=script,
                    caller=f"+551{self.run:02d}{number:08d}", cpf=drill_cpf)

    def _run(self, rng: random.Random) -> None:
        time.sleep(rng.uniform(0, self.pace[1] * 4))  # arrivals spread out
        while not self._stop.is_set():
            call = self._next_call(rng)
            self.play(call, rng)
            with self._lock:
                self.calls.append(call)

    def _webhook(self, call: Call, url: str, extra: dict[str, str]) -> ET.Element | None:
        step = Step(url=url, started=time.monotonic())
        call.steps.append(step)
        status, body = self.provider.post(url, form_of(call, **extra))
        step.status = status
        root = parse(body) if status == 200 else None
        if root is None:
            # What the provider does: the fallback URL, with the failed URL.
            step.fallback = True
            failed_url = url if url.startswith("http") else self.provider.base + url
            status, body = self.provider.post("/voice/fallback", form_of(
                call, ErrorCode="11200", ErrorUrl=failed_url, **extra))
            root = parse(body) if status == 200 else None
            step.fallback_failed = root is None
        step.ended = time.monotonic()
        if root is not None:
            step.heard = spoken(root)
            audible = {"Say", "Play", "Dial", "Record", "Redirect"}
            step.silent = not audible & {element.tag for element in root.iter()} \
                and "DialCallStatus" not in extra
        return root

    def play(self, call: Call, rng: random.Random) -> None:
        call.started = time.monotonic()
        keys = list(call.script.keys)
        url, extra = "/voice", dict[str, str]()
        while True:
            password_step = "/voice/auth/password" in url
            root = self._webhook(call, url, extra)
            if password_step and call.script.wrong_password:
                step = call.steps[-1]
                if step.fallback or APOLOGY in step.heard:
                    call.wrong_uncertain += 1
                elif "não conferem" in step.heard or "Não foi possível" in step.heard:
                    call.wrong_answered += 1
            if root is None:
                call.failed = f"no answer from {url.split('?')[0]}, nor from the fallback URL"
                break
            if call.steps[-1].silent:
                call.failed = f"silence after {url.split('?')[0]}"
                break
            gather, dial = root.find("Gather"), root.find("Dial")
            record, redirect = root.find("Record"), root.find("Redirect")
            if gather is not None:
                if not keys:
                    break  # hangs up at this prompt
                key = keys.pop(0)
                if key == "" and call.cpf:
                    key = call.cpf
                url, extra = gather.attrib["action"], {"Digits": key}
            elif dial is not None:
                url, extra = dial.attrib["action"], {"DialCallStatus": call.script.dial}
            elif record is not None:
                url, extra = record.attrib["action"], {
                    "RecordingUrl": f"https://api.example.com/Recordings/RE{call.sid[2:]}",
                    "RecordingDuration": "4"}
            elif redirect is not None and redirect.text:
                url, extra = redirect.text.strip(), {}
                continue  # the provider fetches a redirect at once
            else:
                break  # hung up by the server
            time.sleep(rng.uniform(*self.pace))
        status, _ = self.provider.post("/voice/status", form_of(
            call, CallStatus="completed", CallDuration=str(max(1, len(call.steps)))))
        if status not in (200, 204):
            call.failed = call.failed or f"status callback answered {status}"
        call.ended = time.monotonic()


@dataclass
class Findings:
    """What a drill found, for its report."""

    calls: int = 0
    failed: list[str] = field(default_factory=list)
    provider_5xx: int = 0
    no_answer: int = 0
    silences: int = 0
    disturbed_calls: int = 0
    heard: Counter[str] = field(default_factory=Counter)
    records_missing: int = 0
    steps_lost: int = 0
    steps_doubled: int = 0
    calls_with_lost_steps: int = 0
    lockout_lost: int = 0
    lockout_doubled: int = 0
    lockout_uncertain: int = 0
    logins_lost: int = 0
    back_after: float = 0.0
    expected_steps: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        heard = "; ".join(f"{count}x {what}" for what, count in self.heard.most_common(6))
        return [
            f"calls played: {self.calls}; failed: {len(self.failed)}"
            + (f" ({'; '.join(self.failed[:3])})" if self.failed else ""),
            f"5xx that reached the provider: {self.provider_5xx}; webhooks without an answer: "
            f"{self.no_answer}; silences: {self.silences}",
            f"calls that heard an apology or were resumed: {self.disturbed_calls}"
            + (f" ({heard})" if heard else ""),
            f"call records missing: {self.records_missing}; steps lost: {self.steps_lost} "
            f"(in {self.calls_with_lost_steps} calls); doubled: {self.steps_doubled}",
            f"wrong-password counts lost: {self.lockout_lost}; doubled: {self.lockout_doubled} "
            f"(answers lost in flight: {self.lockout_uncertain}); logins without an audit row: "
            f"{self.logins_lost}",
            f"service back {self.back_after:.1f} s after the fault ended",
        ]


def examine(calls: list[Call], database_url: str, fault_ended: float,
            calm_before: float) -> Findings:
    """Each call against the database: its record, its wrong passwords, its login audit.

    A call's expected record is the most common one among the undisturbed calls of its script
    (those before the fault, ``calm_before``, when there are enough): an undisturbed call with
    fewer steps lost some, one with more had some doubled."""
    found = Findings(calls=len(calls))
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as connection:
        records = {row.call_sid: row for row in connection.execute(text(
            "SELECT call_sid, steps, last_node, final_status FROM calls"))}
        failures: dict[str, int] = {row[0]: row[1] for row in connection.execute(text(
            "SELECT cpf, failed_attempts FROM contacts"))}
        attempts = Counter(row[0] for row in connection.execute(text(
            "SELECT call_sid FROM login_attempts")))
    engine.dispose()
    calm: dict[str, Counter[int]] = {}
    every: dict[str, Counter[int]] = {}
    for call in calls:
        if not call.disturbed and call.sid in records:
            steps = records[call.sid].steps
            every.setdefault(call.script.kind, Counter())[steps] += 1
            if call.ended < calm_before:
                calm.setdefault(call.script.kind, Counter())[steps] += 1
    for kind, counts in every.items():
        sample = calm.get(kind) if sum(calm.get(kind, Counter()).values()) >= 5 else counts
        found.expected_steps[kind] = (sample or counts).most_common(1)[0][0]
    wrong_by_cpf: dict[str, list[int]] = {}
    for call in calls:
        if call.failed:
            found.failed.append(f"{call.sid}: {call.failed}")
        for step in call.steps:
            found.provider_5xx += step.status is not None and step.status >= 500
            found.no_answer += step.status is None
            found.silences += step.silent
            if step.disturbed and step.ended > fault_ended:
                found.back_after = max(found.back_after, step.ended - fault_ended)
            if step.disturbed:
                found.heard[_what(step)] += 1
        found.disturbed_calls += call.disturbed
        record = records.get(call.sid)
        if record is None or record.final_status is None:
            found.records_missing += 1
            continue
        expected = found.expected_steps.get(call.script.kind)
        if expected is not None and not call.disturbed:
            if record.steps < expected:
                found.steps_lost += expected - record.steps
                found.calls_with_lost_steps += 1
            found.steps_doubled += max(0, record.steps - expected)
        if call.script.wrong_password:
            tally = wrong_by_cpf.setdefault(call.cpf, [0, 0])
            tally[0] += call.wrong_answered
            tally[1] += call.wrong_uncertain
        logged = sum(1 for step in call.steps if "/voice/auth/password" in step.url
                     and not step.disturbed)
        found.logins_lost += max(0, logged - attempts.get(call.sid, 0))
    for one, (answered, uncertain) in wrong_by_cpf.items():
        counted = failures.get(one, 0)
        found.lockout_lost += max(0, answered - counted)
        found.lockout_doubled += max(0, counted - answered - uncertain)
        found.lockout_uncertain += uncertain
    return found


def _what(step: Step) -> str:
    if step.fallback_failed:
        return "the provider's error message (no fallback answer)"
    how = "via the fallback URL: " if step.fallback else ""
    return how + (step.heard[:70] or "(nothing said)")
