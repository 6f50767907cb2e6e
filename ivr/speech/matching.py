"""Which option a spoken answer names, by the synonyms the menu lists for each option.

Both sides go through ``key_words`` (accents, case, plurals and filler words fall away), and a
word may differ from a synonym's by a small transcription slip ("financero"). An option is named
when every word of one of its synonyms is in the answer. When several options are named, one
that accounts for all the others' words and more wins ("nota fiscal" over "notas"); otherwise
the answer is ambiguous and the caller is asked again, with the two closest options named.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from ivr.speech.words import key_words

# A word of four letters or more matches with one slip in five letters; shorter words must be
# exact ("um" is not "uma", "nf" is not "nfe").
WORD_SIMILARITY = 0.8
EXACT_BELOW = 4
# With a doubtful transcription, a choice this close is offered back to the caller.
NEAR_MISS = 0.6


@dataclass(frozen=True)
class Choice:
    """What a caller can ask for in a menu: ``key`` says what to do (an option's key, or
    another name the caller of the matcher understands), ``name`` is how to offer it."""

    key: str
    name: str
    # Each synonym as its key words (``key_words``), longest first.
    phrases: tuple[tuple[str, ...], ...]


def choice(key: str, name: str, synonyms: Sequence[str]) -> Choice:
    phrases = {key_words(s) for s in synonyms}
    phrases.discard(())
    return Choice(key, name, tuple(sorted(phrases, key=lambda p: (-len(p), p))))


@dataclass(frozen=True)
class Chosen:
    choice: Choice


@dataclass(frozen=True)
class Unsure:
    """Low confidence or ambiguous: offer these (one or two) and ask again."""

    closest: tuple[Choice, ...]


@dataclass(frozen=True)
class Unmatched:
    pass


Decision = Chosen | Unsure | Unmatched


@dataclass(frozen=True)
class _Named:
    choice: Choice
    similarity: float  # mean over the best synonym's words
    covered: frozenset[int]  # positions of the answer's words its synonyms account for


def decide(choices: Sequence[Choice], answer: str, confidence: float | None,
           min_confidence: float) -> Decision:
    """What the caller asked for. ``confidence``: the provider's, 0 to 1 (None: not given)."""
    words = key_words(answer)
    unsure = confidence is not None and confidence < min_confidence
    named = [n for n in (_named(c, words) for c in choices) if n is not None]
    if not named:
        if not unsure:
            return Unmatched()
        # The transcription itself is in doubt: near misses are worth offering.
        near = sorted(((_closeness(c, words), c) for c in choices), key=lambda p: -p[0])
        offered = tuple(c for score, c in near[:2] if score >= NEAR_MISS)
        return Unsure(offered) if offered else Unmatched()
    ranked = sorted(_undominated(named), key=_rank)
    if len(ranked) == 1 and not unsure:
        return Chosen(ranked[0].choice)
    first = ranked[0]
    second = ranked[1].choice if len(ranked) > 1 else _runner_up(choices, first.choice, words)
    return Unsure((first.choice,) if second is None else (first.choice, second))


def _rank(named: _Named) -> tuple[int, float]:
    return -len(named.covered), -named.similarity


def _runner_up(choices: Sequence[Choice], first: Choice, words: tuple[str, ...]
               ) -> Choice | None:
    others = [(_closeness(c, words), c) for c in choices if c.key != first.key]
    score, closest = max(others, key=lambda p: p[0], default=(0.0, None))
    return closest if score > 0 else None


def _closeness(choice: Choice, words: tuple[str, ...]) -> float:
    """How near the answer's words come to any of the choice's, however far."""
    return max((Levenshtein.normalized_similarity(wanted, word)
                for phrase in choice.phrases for wanted in phrase for word in words),
               default=0.0)


def _undominated(named: list[_Named]) -> list[_Named]:
    """Leaves out an option whose words another option accounts for, and more."""
    return [n for n in named
            if not any(n.covered < other.covered for other in named if other is not n)]


def _named(choice: Choice, words: tuple[str, ...]) -> _Named | None:
    best = 0.0
    covered: set[int] = set()
    for phrase in choice.phrases:
        found = _find(phrase, words)
        if found is None:
            continue
        similarity, positions = found
        best = max(best, similarity)
        covered |= positions
    return _Named(choice, best, frozenset(covered)) if covered else None


def _find(phrase: tuple[str, ...], words: tuple[str, ...]) -> tuple[float, set[int]] | None:
    """Every word of the phrase in the answer (any order): mean similarity and positions."""
    total = 0.0
    positions: set[int] = set()
    for wanted in phrase:
        scores = [(similarity(wanted, word), at) for at, word in enumerate(words)]
        score, at = max(scores, default=(0.0, -1))
        if score < WORD_SIMILARITY:
            return None
        total += score
        positions.add(at)
    return total / len(phrase), positions


def similarity(wanted: str, heard: str) -> float:
    if wanted == heard:
        return 1.0
    if min(len(wanted), len(heard)) < EXACT_BELOW:
        return 0.0
    return Levenshtein.normalized_similarity(wanted, heard)
