"""The survey dialogue (docs/rules.md#satisfaction-survey). Pure: the survey node, the keys and
the call's state in; a ``Reply``, or the score to store, out."""

from __future__ import annotations

from dataclasses import dataclass

from ivr import engine
from ivr.actions import Hangup, Record, Reply, Resume, say
from ivr.menu import Menu
from ivr.menu.schema import SurveyNode
from ivr.state import CallState

COMMENT = "surveys.comment"
DONE = "surveys.done"

Params = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Scored:
    """A score in range, to store before the comment (if any) is asked."""

    score: int


def node_of(menu: Menu, state: CallState) -> SurveyNode | None:
    node = menu.node(state.node)
    return node if isinstance(node, SurveyNode) else None


def skipped(menu: Menu) -> Reply:
    return Reply(speech=say(menu.wording.survey_skipped), then=Hangup())


def on_score(menu: Menu, node: SurveyNode, state: CallState, keys: str,
             params: Params) -> Reply | Scored:
    """Silence skips the survey; the repeat key asks again; a key out of range is asked again,
    up to the menu's limit of invalid keys, then the survey is skipped."""
    if not keys:
        return skipped(menu)
    if keys == menu.settings.repeat_key:
        return engine.ask_survey(menu, node, state, params)
    if keys.isascii() and keys.isdigit() and node.lowest <= int(keys) <= node.highest:
        return Scored(int(keys))
    if state.invalid + 1 >= menu.settings.retries.max_invalid:
        return skipped(menu)
    hint = menu.wording.survey_out_of_range.format(lowest=node.lowest, highest=node.highest)
    return engine.ask_survey(menu, node, state.bump_invalid(), params,
                             say(menu.settings.retries.invalid, hint))


def after_score(menu: Menu, node: SurveyNode, state: CallState, params: Params) -> Reply:
    """The optional spoken comment (hanging up or silence ends it), or thanks."""
    if node.comment is None:
        return thanks(menu, node)
    return Reply(speech=engine.prompt_speech(node.comment),
                 then=Record(Resume(COMMENT, state, params), max_length=node.comment_seconds,
                             on_silence=Resume(DONE, state)))


def thanks(menu: Menu, node: SurveyNode | None) -> Reply:
    return Reply(speech=say(node.thanks if node else menu.wording.survey_skipped), then=Hangup())
