"""The menu engine: given the menu, where the call is, what the caller keyed and the time, say
what happens next. Plain Python: no Flask, no Twilio, no database, so every rule is testable
with the clock injected.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from ivr.actions import (
    Ask,
    Dial,
    Hangup,
    Outcome,
    Record,
    Redirect,
    Reply,
    Resume,
    Speech,
    say,
)
from ivr.menu.loader import Menu
from ivr.menu.schema import (
    MenuNode,
    MessageNode,
    OuvidoriaNode,
    Play,
    Prompt,
    Say,
    SurveyNode,
    TicketStatusNode,
    TransferNode,
    VoicemailNode,
)
from ivr.schedule import describe_next_opening, next_opening, status_at
from ivr.speech.digits import spoken_digits
from ivr.speech.heard import Heard
from ivr.speech.matching import Choice, Chosen, Unsure, decide
from ivr.speech.menus import vocabulary
from ivr.state import CallState

# Webhook endpoints the provider is sent back to (Flask endpoint names, resolved by the views).
STEP = "ivr.step"
DIALED = "ivr.dialed"
RECORDED = "ivr.recorded"
LOGIN = "auth.login"
TICKET_STATUS = "tickets.status"
OUVIDORIA = "ouvidoria.start"
SURVEY_SCORE = "surveys.score"

ANSWERED = frozenset({"completed", "answered"})
_MAX_CHAIN = 12  # message -> message -> ... links followed in one reply


@dataclass(frozen=True)
class CallContext:
    """What the engine may ask about the call beyond its URL state."""

    # Asked only when a node needs a login, so plain menu steps never touch the database.
    is_logged_in: Callable[[], bool] = lambda: False


def start(menu: Menu, now: datetime, ctx: CallContext) -> Reply:
    """A new call: the main menu."""
    main = menu.settings.main_menu
    return enter(menu, CallState(node=main, path=(main,)), now, ctx)


def restart(menu: Menu, now: datetime, ctx: CallContext, apology: str) -> Reply:
    """Back to the main menu with an apology (unknown node, stale or garbled URL)."""
    main = menu.settings.main_menu
    return enter(menu, CallState(node=main, path=(main,)), now, ctx, lead=say(apology))


def enter(
    menu: Menu,
    state: CallState,
    now: datetime,
    ctx: CallContext,
    lead: tuple[Speech, ...] = (),
    _depth: int = 0,
) -> Reply:
    """Arrive at ``state.node``: play its prompt, dial, or hand over to a built-in step."""
    node = menu.node(state.node)
    if node is None or _depth > _MAX_CHAIN:
        if state.node == menu.settings.main_menu:  # cannot happen with a checked menu
            return Reply(speech=lead + say(menu.settings.apology), then=Hangup(),
                         outcome=Outcome("error", "main menu missing"))
        return restart(menu, now, ctx, menu.settings.menu_changed)
    if node.auth and not ctx.is_logged_in():
        if isinstance(node, TransferNode) and not is_open(menu, node, now):
            # No one to talk to: say so now rather than after a login.
            return closed(menu, node, state, now, ctx, lead)
        return Reply(speech=lead, then=Redirect(Resume(LOGIN, state)))
    if isinstance(node, MenuNode):
        return Reply(speech=(), then=_ask(menu, node, state, lead + prompt_speech(node.prompt)))
    if isinstance(node, TransferNode):
        return transfer(menu, node, state, now, ctx, lead)
    if isinstance(node, MessageNode):
        speech = lead + prompt_speech(node.say)
        if node.next is None:
            return Reply(speech=speech, then=Hangup(), outcome=Outcome("message", state.node))
        return enter(menu, state.at(node.next), now, ctx, speech, _depth + 1)
    if isinstance(node, VoicemailNode):
        return Reply(
            speech=lead + prompt_speech(node.say),
            then=Record(Resume(RECORDED, state), max_length=node.max_seconds,
                        nothing_said=menu.wording.nothing_recorded),
        )
    if isinstance(node, SurveyNode):
        return ask_survey(menu, node, state, lead=lead)
    if isinstance(node, OuvidoriaNode):
        return Reply(speech=lead, then=Redirect(Resume(OUVIDORIA, state)))
    assert isinstance(node, TicketStatusNode)
    return Reply(speech=lead, then=Redirect(Resume(TICKET_STATUS, state)))


def on_keys(
    menu: Menu, state: CallState, digits: str | None, now: datetime, ctx: CallContext
) -> Reply:
    """The caller keyed ``digits`` (or nothing: silence) at the menu ``state.node``."""
    node = menu.node(state.node)
    if node is None:
        return restart(menu, now, ctx, menu.settings.menu_changed)
    if not isinstance(node, MenuNode):
        # A replayed or out-of-order URL: carry on from where it points.
        return enter(menu, state, now, ctx)
    settings = menu.settings
    keys = (digits or "").strip()
    if not keys:
        return _retry(menu, node, state.bump_silence(), now, ctx, silence=True)
    if keys == settings.repeat_key:
        return Reply(then=_ask(menu, node, state, prompt_speech(node.prompt)))
    if keys == settings.main_menu_key and state.node != settings.main_menu:
        return enter(menu, state.at(settings.main_menu), now, ctx)
    option = node.options.get(keys)
    if option is not None:
        return enter(menu, state.at(option.goto), now, ctx)
    entry = node.direct_entry
    if entry and len(keys) == entry.digits and keys.isdigit():
        return enter(menu, state.at(entry.goto).with_entry(keys), now, ctx)
    return _retry(menu, node, state.bump_invalid(), now, ctx, silence=False)


def on_answer(
    menu: Menu, state: CallState, heard: Heard, now: datetime, ctx: CallContext
) -> Reply:
    """The caller keyed or said something (or nothing) at the menu ``state.node``. A key always
    wins; words are digits ("dois", a ticket number said aloud) or name an option."""
    node = menu.node(state.node)
    spoken = vocabulary(menu, state.node) if heard.kind == "speech" else None
    if spoken is None or not isinstance(node, MenuNode):
        return on_keys(menu, state, heard.keys, now, ctx)
    digits = spoken_digits(heard.speech)
    if digits is not None:
        return on_keys(menu, state, digits, now, ctx)
    decision = decide(spoken.choices, heard.speech, heard.confidence,
                      menu.settings.speech.min_confidence)
    if isinstance(decision, Chosen):
        path = spoken.paths.get(decision.choice.key)
        if path is not None:
            return jump(menu, state, path, now, ctx)
        return on_keys(menu, state, decision.choice.key, now, ctx)
    if isinstance(decision, Unsure):
        return _retry(menu, node, state.bump_invalid(), now, ctx, silence=False,
                      message=_offer(menu, decision.closest))
    return _retry(menu, node, state.bump_invalid(), now, ctx, silence=False)


def jump(menu: Menu, state: CallState, path: tuple[str, ...], now: datetime,
         ctx: CallContext) -> Reply:
    """Straight down ``path`` (a spoken option of a menu below this one), with every login and
    hours check of the way: a login that any node on the path asks for comes first."""
    arrived = state
    for name in path:
        arrived = arrived.at(name)
    on_the_way = (menu.node(name) for name in path[:-1])
    if any(node is not None and node.auth for node in on_the_way) and not ctx.is_logged_in():
        target = menu.node(arrived.node)
        if isinstance(target, TransferNode) and not is_open(menu, target, now):
            return closed(menu, target, arrived, now, ctx)
        return Reply(then=Redirect(Resume(LOGIN, arrived)))
    return enter(menu, arrived, now, ctx)


def _offer(menu: Menu, closest: tuple[Choice, ...]) -> str:
    return menu.wording.speech_unsure.format(options=" ou ".join(c.name for c in closest))


def on_dial_result(
    menu: Menu, state: CallState, dial_status: str | None, now: datetime, ctx: CallContext,
    caller_on_line: bool = False,
) -> Reply:
    """The provider reports how the transfer went; unanswered transfers fall back, never silence.
    An answered one ends with the survey when the person hung up first (``caller_on_line``)."""
    node = menu.node(state.node)
    status = (dial_status or "").strip().lower()
    if status in ANSWERED:
        return after_talk(menu, state, caller_on_line, team=state.node)
    if not isinstance(node, TransferNode):
        return restart(menu, now, ctx, menu.settings.menu_changed)
    fallback = {
        "busy": node.on_busy,
        "no-answer": node.on_no_answer,
        "failed": node.on_failed,
    }.get(status) or node.on_unanswered
    reply = enter(menu, state.at(fallback), now, ctx)
    if reply.outcome is None:
        reply = replace(reply, outcome=Outcome("unanswered", f"{state.node}:{status or 'unknown'}"))
    return reply


def after_talk(menu: Menu, state: CallState, caller_on_line: bool, *, team: str,
               specialist: bool = False) -> Reply:
    """After talking to people (``team``: the transfer node, or the ticket's area team): the
    menu's survey while the caller is still on the line, else goodbye."""
    survey = offer_survey(menu, state, team=team, specialist=specialist) \
        if caller_on_line else None
    return survey or Reply(then=Hangup())


def offer_survey(menu: Menu, state: CallState, *, team: str, specialist: bool = False,
                 lead: tuple[Speech, ...] = ()) -> Reply | None:
    """The menu's survey about ``team`` (and the ticket in ``state.entry``); None without one."""
    name = menu.settings.survey
    node = menu.node(name) if name else None
    if not isinstance(node, SurveyNode) or name is None:
        return None
    return ask_survey(menu, node, state.at(name), survey_params(team, specialist), lead)


def survey_params(team: str, specialist: bool) -> tuple[tuple[str, str], ...]:
    """What the survey is about, carried in its webhooks' URLs from step to step."""
    return (("t", team), ("p", "1")) if specialist else (("t", team),)


def ask_survey(menu: Menu, node: SurveyNode, state: CallState,
               params: tuple[tuple[str, str], ...] = (), lead: tuple[Speech, ...] = ()) -> Reply:
    """The survey's question; keys go to the survey's webhook, silence skips it there."""
    ask = Ask(Resume(SURVEY_SCORE, state, params), lead + prompt_speech(node.question),
              timeout=menu.settings.retries.timeout, num_digits=1, finish_on_key="")
    return Reply(then=ask)


def on_recording(menu: Menu, state: CallState, recording_url: str | None) -> Reply:
    node = menu.node(state.node)
    thanks = node.thanks if isinstance(node, VoicemailNode) else menu.wording.recording_thanks
    detail = f"{state.node}:{recording_url}" if recording_url else state.node
    return Reply(speech=say(thanks), then=Hangup(), outcome=Outcome("voicemail", detail[:255]))


def transfer(
    menu: Menu,
    node: TransferNode,
    state: CallState,
    now: datetime,
    ctx: CallContext,
    lead: tuple[Speech, ...] = (),
) -> Reply:
    """Dial the node's target, judged against its schedule at this moment."""
    target = transfer_target(menu, node, now)
    if target is None:
        return closed(menu, node, state, now, ctx, lead)
    intro = prompt_speech(node.say) if node.say else ()
    return Reply(
        speech=lead + intro,
        then=Dial(Resume(DIALED, state), target=target, timeout=node.ring_timeout,
                  caller_id=node.caller_id),
        outcome=Outcome("transferred", f"{state.node}:{target}"),
    )


def transfer_target(menu: Menu, node: TransferNode, now: datetime) -> str | None:
    """Who takes the call now: the regular target, the on-duty one in plantão, None if closed."""
    if not node.schedule:
        return node.to
    status = status_at(menu.schedules[node.schedule], now)
    if not status.open:
        return None
    if status.plantao:
        return node.on_duty or status.on_duty or node.to
    return node.to


def is_open(menu: Menu, node: TransferNode | OuvidoriaNode, now: datetime) -> bool:
    return node.schedule is None or status_at(menu.schedules[node.schedule], now).open


def closed_speech(menu: Menu, schedule_name: str, now: datetime) -> tuple[Speech, ...]:
    """Hours, when the line reopens and where else to go."""
    wording = menu.wording
    opening = next_opening(menu.schedules[schedule_name], now)
    reopening = "" if opening is None else wording.closed_reopening.format(
        reopening=describe_next_opening(opening, now))
    return say(wording.closed_now, wording.closed_hours.format(hours=menu.hours[schedule_name]),
               reopening, wording.closed_portal)


def closed(
    menu: Menu,
    node: TransferNode,
    state: CallState,
    now: datetime,
    ctx: CallContext,
    lead: tuple[Speech, ...] = (),
) -> Reply:
    assert node.schedule is not None
    speech = lead + closed_speech(menu, node.schedule, now)
    outcome = Outcome("closed", state.node)
    if node.when_closed:
        reply = enter(menu, state.at(node.when_closed), now, ctx, speech)
        return replace(reply, outcome=outcome)
    return Reply(speech=speech + say(menu.wording.goodbye), then=Hangup(), outcome=outcome)


def give_up(
    menu: Menu, state: CallState, now: datetime, ctx: CallContext, lead: tuple[Speech, ...]
) -> Reply:
    """Past the retry limits: a person while the line is open, else a goodbye. Never a loop."""
    retries = menu.settings.retries
    outcome = Outcome("retries_exhausted", state.node)
    person = menu.node(retries.give_up_node) if retries.give_up_node else None
    if isinstance(person, TransferNode) and is_open(menu, person, now):
        assert retries.give_up_node is not None
        reply = transfer(menu, person, state.at(retries.give_up_node), now, ctx, lead)
        return replace(reply, outcome=outcome)
    return Reply(speech=lead + say(retries.goodbye), then=Hangup(), outcome=outcome)


# A loaded menu never changes, so each prompt's speech is built once. Keyed by identity (a
# prompt may be a list); the entry holds the prompt so its id cannot be reused meanwhile.
_PROMPT_SPEECH: dict[int, tuple[Prompt, tuple[Speech, ...]]] = {}
_PROMPT_SPEECH_MAX = 4096


def prompt_speech(prompt: Prompt | None) -> tuple[Speech, ...]:
    if prompt is None:  # no prompt given (a loaded menu gives every menu node both)
        return ()
    cached = _PROMPT_SPEECH.get(id(prompt))
    if cached is not None and cached[0] is prompt:
        return cached[1]
    parts = prompt if isinstance(prompt, list) else [prompt]
    result = []
    for part in parts:
        if isinstance(part, Play):
            result.append(Speech(audio_url=part.play))
        elif isinstance(part, Say):
            result.append(Speech(text=part.say))
        else:
            result.append(Speech(text=part))
    speech = tuple(result)
    if len(_PROMPT_SPEECH) >= _PROMPT_SPEECH_MAX:
        _PROMPT_SPEECH.clear()  # menus change only on reloads; a crude reset is enough
    _PROMPT_SPEECH[id(prompt)] = (prompt, speech)
    return speech


def _retry(
    menu: Menu, node: MenuNode, state: CallState, now: datetime, ctx: CallContext, *,
    silence: bool, message: str = "",
) -> Reply:
    retries = menu.settings.retries
    message = message or (retries.silence if silence else retries.invalid)
    limit = (node.max_silence or retries.max_silence) if silence else \
        (node.max_invalid or retries.max_invalid)
    count = state.silence if silence else state.invalid
    if count >= limit:
        return give_up(menu, state, now, ctx, say(message))
    short = prompt_speech(node.short_prompt) if node.short_prompt else prompt_speech(node.prompt)
    return Reply(then=_ask(menu, node, state, say(message) + short))


def _ask(menu: Menu, node: MenuNode, state: CallState, speech: tuple[Speech, ...]) -> Ask:
    timeout = node.timeout or menu.settings.retries.timeout
    entry = node.direct_entry
    spoken = vocabulary(menu, state.node)
    listen = spoken.listen if spoken is not None else None
    if entry is None:
        # One key decides; '#' and '*' come through as keys rather than ending the input.
        return Ask(Resume(STEP, state), speech, timeout=timeout, num_digits=1, finish_on_key="",
                   listen=listen)
    # Direct entry: the short inter-digit timeout lets a single key through after a brief
    # pause while a full number can be keyed over the prompt; '#' ends a number at once.
    # The pause after the prompt keeps the caller's time to start keying as long as elsewhere.
    return Ask(
        Resume(STEP, state),
        speech,
        timeout=entry.inter_digit_timeout,
        num_digits=entry.digits,
        finish_on_key="#",
        listen_after=max(timeout - entry.inter_digit_timeout, 0),
        listen=listen,
    )


def on_failure(menu: Menu, now: datetime) -> Reply:
    """Something broke (the database is down...): apologise and, in hours, put a person on."""
    settings = menu.settings
    outcome = Outcome("error", "")
    person_name = settings.retries.give_up_node
    person = menu.node(person_name) if person_name else None
    if isinstance(person, TransferNode) and person_name and is_open(menu, person, now):
        state = CallState(node=person_name, path=(person_name,))
        reply = transfer(menu, person, state, now, CallContext(), say(settings.apology))
        return replace(reply, outcome=outcome)
    return Reply(
        speech=say(settings.apology, menu.wording.failure_goodbye),
        then=Hangup(),
        outcome=outcome,
    )
