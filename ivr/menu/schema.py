"""The shape of ``menus.yaml``: what an admin may write, with defaults and field-level checks.

Cross-references (an option to a node that does not exist, unreachable nodes...) are checked in
``checks``, after every field is known to be well formed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from ivr.menu.wording import Wording

NODE_NAME = r"^[a-z][a-z0-9_]{0,47}$"
AREAS = ("cadastro", "educacional", "financas", "nfe")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME_RANGE = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def parse_clock(text: str) -> time:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", text.strip())
    if not match:
        raise ValueError(f"'{text}' is not a time (use HH:MM)")
    hour, minute = int(match[1]), int(match[2])
    if hour == 24 and minute == 0:
        return time.max
    if hour > 23 or minute > 59:
        raise ValueError(f"'{text}' is not a valid time of day")
    return time(hour, minute)


def parse_range(text: str) -> tuple[time, time]:
    match = _TIME_RANGE.match(text.strip())
    if not match:
        raise ValueError(f"'{text}' is not a time range (use HH:MM-HH:MM)")
    start = parse_clock(f"{match[1]}:{match[2]}")
    end = parse_clock(f"{match[3]}:{match[4]}")
    if end <= start:
        raise ValueError(f"'{text}' ends before it starts")
    return start, end


def check_e164(value: str) -> str:
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        raise ValueError(f"'{value}' is not an E.164 number (+55 and digits)") from None
    if not value.startswith("+") or not phonenumbers.is_possible_number(number):
        raise ValueError(f"'{value}' is not an E.164 number (+55 and digits)")
    if phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) != value:
        raise ValueError(f"'{value}' is not in E.164 form (digits only after '+')")
    return value


def check_target(value: str) -> str:
    """A transfer target: an E.164 number, a SIP URI, a queue or a client."""
    if value.startswith("sip:"):
        if not re.fullmatch(r"sip:[^@\s]+@[^@\s]+", value):
            raise ValueError(f"'{value}' is not a SIP address (sip:user@host)")
        return value
    if value.startswith(("queue:", "client:")):
        name = value.split(":", 1)[1]
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", name):
            raise ValueError(f"'{value}' has an invalid name after the colon")
        return value
    return check_e164(value)


class Say(Strict):
    say: str = Field(min_length=1)


class Play(Strict):
    play: str = Field(pattern=r"^https?://\S+$")


PromptPart = Annotated[str, Field(min_length=1)] | Say | Play
Prompt = PromptPart | list[PromptPart]


class Retries(Strict):
    timeout: int = Field(6, ge=1, le=30, description="seconds to wait for a key")
    max_invalid: int = Field(3, ge=1, le=9)
    max_silence: int = Field(3, ge=1, le=9)
    invalid: str = "Opção inválida."
    silence: str = "Não recebemos nenhuma opção."
    give_up_node: str | None = Field(None, pattern=NODE_NAME)
    goodbye: str = (
        "Não foi possível identificar a opção desejada. Ligue novamente quando quiser. Até logo."
    )


class SpeechSettings(Strict):
    """Spoken answers beside the keypad (docs/rules.md#speech)."""

    enabled: bool = True
    # Transcriptions the provider is less sure of than this are offered back, not acted on.
    min_confidence: float = Field(0.5, ge=0, le=1)
    repeat: list[Annotated[str, Field(min_length=1, max_length=100)]] = [
        "repetir", "repita", "de novo", "ouvir novamente"]
    main_menu: list[Annotated[str, Field(min_length=1, max_length=100)]] = [
        "menu principal", "voltar ao início", "voltar ao menu"]


class LineSettings(Strict):
    """The ``settings:`` block of menus.yaml: how the whole line speaks and behaves."""

    language: Literal["pt-BR"] = "pt-BR"
    voice: str = "Polly.Camila"
    timezone: str = "America/Sao_Paulo"
    main_menu: str = Field(pattern=NODE_NAME)
    repeat_key: Literal["*"] = "*"
    main_menu_key: str = Field("0", pattern=r"^[0-9]$")
    portal: str = "suporte.totvs.com.br"
    retries: Retries = Retries()
    apology: str = "Desculpe, tivemos um problema."
    menu_changed: str = "Desculpe, nosso menu foi atualizado. Vamos recomeçar."
    teams: dict[Literal["cadastro", "educacional", "financas", "nfe"], str] = {}
    speech: SpeechSettings = SpeechSettings()
    # The survey node a caller goes to after talking to people (docs/rules.md#satisfaction-survey);
    # none: no survey.
    survey: str | None = Field(None, pattern=NODE_NAME)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone '{value}'") from None
        return value


class PlantaoWindow(Strict):
    hours: str
    on_duty: str | None = None

    @field_validator("hours")
    @classmethod
    def _range(cls, value: str) -> str:
        parse_range(value)
        return value

    @field_validator("on_duty")
    @classmethod
    def _target(cls, value: str | None) -> str | None:
        return None if value is None else check_target(value)


def _check_month_day(value: str) -> str:
    try:
        date(2000, int(value[:2]), int(value[3:]))  # a leap year: 02-29 is a real holiday date
    except ValueError:
        raise ValueError(f"'{value}' is not a day of the year (MM-DD)") from None
    return value


MonthDay = Annotated[str, Field(pattern=r"^\d{2}-\d{2}$"), AfterValidator(_check_month_day)]


class Holidays(Strict):
    country: Literal["BR"] | None = "BR"
    state: str | None = Field(None, pattern=r"^[A-Z]{2}$")
    local: list[date | MonthDay] = []
    closed: list[date] = []


def _check_days(value: str) -> str:
    expand_days(value)
    return value


def _check_range(value: str) -> str:
    parse_range(value)
    return value


Days = Annotated[str, AfterValidator(_check_days)]
TimeRange = Annotated[str, AfterValidator(_check_range)]


class Schedule(Strict):
    # Checked entry by entry so a mistake is reported at its own line.
    hours: dict[Days, TimeRange | list[TimeRange]]
    plantao: list[PlantaoWindow] = []
    holidays: Holidays = Holidays()


def expand_days(spec: str) -> list[int]:
    """'mon-fri' -> [0..4]; 'sat' -> [5]; 'mon,wed' -> [0, 2]."""
    result: list[int] = []
    for part in spec.replace(" ", "").split(","):
        bounds = part.split("-")
        if len(bounds) > 2 or not all(b in WEEKDAYS for b in bounds):
            raise ValueError(f"'{spec}' is not a day or range of days (mon, tue, ..., sun)")
        first, last = WEEKDAYS.index(bounds[0]), WEEKDAYS.index(bounds[-1])
        if last < first:
            raise ValueError(f"'{spec}' runs backwards")
        result.extend(range(first, last + 1))
    return result


@dataclass(frozen=True)
class Exit:
    """One way out of a node, as the file names it: the one list the checks, ``menus show``
    and the console's diagram all walk."""

    kind: Literal["key", "digits", "fallback", "next"]
    field: tuple[str, ...]  # where the node names it: ("options", "7"), ("on_busy",)...
    label: str  # "7", "8 digits", "busy", "then"
    target: str

    @property
    def automatic(self) -> bool:
        """Taken without the caller pressing anything."""
        return self.kind in {"fallback", "next"}


class NodeBase(Strict):
    auth: bool = False

    def exits(self) -> list[Exit]:
        """The node's ways out, in the order the file gives them."""
        return []


class DirectEntry(Strict):
    digits: int = Field(ge=1, le=16)
    goto: str = Field(pattern=NODE_NAME)
    # Seconds allowed between two digits; also how long a single option key waits.
    inter_digit_timeout: int = Field(2, ge=1, le=10)


class Option(Strict):
    """A menu key: where it goes and, for a prompt built from the options, what it is for
    ("Para {label}, tecle 7."). ``synonyms``: words a caller may say instead of the key."""

    goto: str
    label: str | None = Field(None, min_length=1)
    synonyms: list[Annotated[str, Field(min_length=1, pattern=r"\S")]] = []

    @field_validator("goto")
    @classmethod
    def _node_name(cls, value: str) -> str:
        if not re.fullmatch(NODE_NAME, value):
            raise ValueError(f"'{value}' is not a node name")
        return value


def _short_option(value: object) -> object:
    # The short form "7": cadastro is an option without a label.
    return {"goto": value} if isinstance(value, str) else value


MenuOption = Annotated[Option, BeforeValidator(_short_option)]


class MenuNode(NodeBase):
    type: Literal["menu"]
    # Without a prompt, the engine builds one: the intro, then a line per option from its
    # label, the way back to the main menu and the repeat key (docs/rules.md#wording).
    prompt: Prompt | None = None
    short_prompt: Prompt | None = None
    intro: str | None = Field(None, min_length=1)
    options: dict[str, MenuOption] = {}
    direct_entry: DirectEntry | None = None
    timeout: int | None = Field(None, ge=1, le=30)
    max_invalid: int | None = Field(None, ge=1, le=9)
    max_silence: int | None = Field(None, ge=1, le=9)

    def exits(self) -> list[Exit]:
        ways = [Exit("key", ("options", key), key, option.goto)
                for key, option in self.options.items()]
        if self.direct_entry:
            entry = self.direct_entry
            ways.append(Exit("digits", ("direct_entry", "goto"), f"{entry.digits} digits",
                             entry.goto))
        return ways


# A transfer's fallbacks by field, with the words tools show for them.
TRANSFER_FALLBACKS = (("on_unanswered", "unanswered"), ("on_busy", "busy"),
                      ("on_no_answer", "no answer"), ("on_failed", "failed"),
                      ("when_closed", "closed"))


class TransferNode(NodeBase):
    type: Literal["transfer"]
    say: Prompt | None = None
    to: str
    caller_id: str | None = None
    ring_timeout: int = Field(25, ge=5, le=120)
    schedule: str | None = None
    on_duty: str | None = None
    on_unanswered: str = Field(pattern=NODE_NAME)
    on_busy: str | None = Field(None, pattern=NODE_NAME)
    on_no_answer: str | None = Field(None, pattern=NODE_NAME)
    on_failed: str | None = Field(None, pattern=NODE_NAME)
    when_closed: str | None = Field(None, pattern=NODE_NAME)

    @field_validator("to", "on_duty")
    @classmethod
    def _target(cls, value: str | None) -> str | None:
        return None if value is None else check_target(value)

    @field_validator("caller_id")
    @classmethod
    def _caller_id(cls, value: str | None) -> str | None:
        return None if value is None else check_e164(value)

    def exits(self) -> list[Exit]:
        return [Exit("fallback", (field,), label, target) for field, label in TRANSFER_FALLBACKS
                if (target := getattr(self, field))]


class MessageNode(NodeBase):
    type: Literal["message"]
    say: Prompt
    next: str | None = Field(None, pattern=NODE_NAME, description="node to go on to; none hangs up")

    def exits(self) -> list[Exit]:
        return [Exit("next", ("next",), "then", self.next)] if self.next else []


class VoicemailNode(NodeBase):
    type: Literal["voicemail"]
    say: Prompt
    max_seconds: int = Field(120, ge=5, le=600)
    thanks: str = "Recebemos sua mensagem. Obrigado e até logo."


class TicketStatusNode(NodeBase):
    """Built-in step: the caller keys (or has keyed) a ticket number and hears its status."""

    type: Literal["ticket_status"]
    auth: bool = True

    @model_validator(mode="after")
    def _needs_login(self) -> TicketStatusNode:
        if not self.auth:
            raise ValueError("ticket_status always requires authentication (auth: true)")
        return self


class OuvidoriaNode(NodeBase):
    """Built-in step (docs/rules.md#ouvidoria): after a login, the number of an earlier ticket of
    the caller's company, then a transfer in hours or a recorded message outside them."""

    type: Literal["ouvidoria"]
    auth: bool = True
    to: str
    caller_id: str | None = None
    ring_timeout: int = Field(25, ge=5, le=120)
    schedule: str | None = None
    max_seconds: int = Field(120, ge=5, le=600)

    @model_validator(mode="after")
    def _needs_login(self) -> OuvidoriaNode:
        if not self.auth:
            raise ValueError("ouvidoria always requires authentication (auth: true)")
        return self

    @field_validator("to")
    @classmethod
    def _target(cls, value: str) -> str:
        return check_target(value)

    @field_validator("caller_id")
    @classmethod
    def _caller_id(cls, value: str | None) -> str | None:
        return None if value is None else check_e164(value)


SURVEY_QUESTION = (
    "Antes de desligar, responda à nossa pesquisa de satisfação. De 1 a 5, qual a sua nota "
    "para o atendimento? Digite a nota agora."
)
SURVEY_COMMENT = (
    "Obrigado. Se quiser deixar um comentário, fale após o sinal e tecle jogo da velha. "
    "Para encerrar, basta desligar."
)


class SurveyNode(NodeBase):
    """The satisfaction survey (docs/rules.md#satisfaction-survey): a score on the keypad, then
    an optional spoken comment. Named by ``settings.survey``."""

    type: Literal["survey"]
    question: Prompt = SURVEY_QUESTION
    lowest: int = Field(1, ge=0, le=9)
    highest: int = Field(5, ge=0, le=9)
    # Asked after the score; none: no comment is recorded.
    comment: Prompt | None = SURVEY_COMMENT
    comment_seconds: int = Field(60, ge=5, le=300)
    thanks: str = "Obrigado pela sua avaliação. Até logo."

    @model_validator(mode="after")
    def _range(self) -> SurveyNode:
        if self.highest <= self.lowest:
            raise ValueError("highest must be more than lowest")
        return self


Node = Annotated[
    MenuNode | TransferNode | MessageNode | VoicemailNode | TicketStatusNode | OuvidoriaNode
    | SurveyNode,
    Field(discriminator="type"),
]


class MenuFile(Strict):
    version: str | int | None = None
    settings: LineSettings
    schedules: dict[str, Schedule] = {}
    nodes: dict[str, Node]
    wording: Wording = Wording()

    @field_validator("nodes")
    @classmethod
    def _names(cls, value: dict[str, object]) -> dict[str, object]:
        for name in value:
            if not re.fullmatch(NODE_NAME, name):
                raise ValueError(f"'{name}' is not a valid node name (lower case, digits, _)")
        return value
