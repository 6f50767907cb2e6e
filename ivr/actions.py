"""What should happen next on a call: small frozen values the engine and the built-in steps
return and one renderer turns into TwiML. Nothing here knows Flask, Twilio or the database.

Frozen and hashable on purpose: identical replies render to identical TwiML, so the renderer
caches them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ivr.state import CallState


@dataclass(frozen=True)
class Speech:
    """Something the caller hears: text said by the voice, or a recording played."""

    text: str = ""
    audio_url: str = ""
    # Read the text as separate characters (ticket numbers, digit by digit).
    as_digits: bool = False
    # Seconds of silence (a <Pause>), e.g. the growing delay after failed logins.
    pause: int = 0


@dataclass(frozen=True)
class Resume:
    """Where the provider should come back: a webhook endpoint name plus the call state."""

    endpoint: str
    state: CallState
    params: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Listen:
    """A prompt that also takes a spoken answer (``SpeechResult``), keys still ending it as
    quickly as before."""

    language: str
    # Words and phrases the caller is likely to say, comma-separated, for the recogniser.
    hints: str = ""
    # Seconds of quiet that end a spoken answer; "auto": the provider's end-of-speech detection.
    timeout: str = "auto"


@dataclass(frozen=True)
class Ask:
    """Play the speech while listening for keys, then post them to ``resume``.

    Silence posts to the same place with no digits, so every prompt ends in a decision and
    never falls off the end of the document.
    """

    resume: Resume
    speech: tuple[Speech, ...]
    timeout: int
    num_digits: int | None = 1
    finish_on_key: str = ""
    # Extra seconds to keep listening after the prompt, before the inter-digit timeout applies.
    listen_after: int = 0
    # Also listen for speech; None: keys only (a password, say).
    listen: Listen | None = None


@dataclass(frozen=True)
class Dial:
    resume: Resume
    target: str
    timeout: int
    caller_id: str | None = None


@dataclass(frozen=True)
class Record:
    resume: Resume
    max_length: int = 120
    timeout: int = 5
    finish_on_key: str = "#"
    # Where to go when nothing was said (the provider then skips the action); None: goodbye,
    # after ``nothing_said``.
    on_silence: Resume | None = None
    nothing_said: str = ""


@dataclass(frozen=True)
class Redirect:
    resume: Resume


@dataclass(frozen=True)
class Hangup:
    pass


Next = Ask | Dial | Record | Redirect | Hangup


@dataclass(frozen=True)
class Outcome:
    """How the call ended up, for the call record."""

    kind: str  # transferred | closed | gave_up | retries_exhausted | hung_up | message | error
    detail: str = ""


@dataclass(frozen=True)
class Reply:
    speech: tuple[Speech, ...] = ()
    then: Next = field(default_factory=Hangup)
    outcome: Outcome | None = None
    # False for replies made of data that seldom repeats (a ticket read out): caching their
    # documents would only push the menus' prompts out of the renderer's cache.
    cacheable: bool = True


def say(*texts: str) -> tuple[Speech, ...]:
    return tuple(Speech(text=t) for t in texts if t)
