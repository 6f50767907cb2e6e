"""Words of a transcription, folded so that what a caller says and what an admin wrote compare
equal: no accents, no case, no punctuation, singular, without the words people wrap a request in.
"""

from __future__ import annotations

import re
import unicodedata

MAX_WORDS = 40  # a menu answer is a few words; a transcription past this is cut

_NOT_WORD = re.compile(r"[^a-z0-9]+")

# Said around a request without naming it ("eu queria falar com o financeiro, por favor").
FILLERS = frozenset("""
    a ai ao aos as ate alo alguem assunto bem boa bom ca com como da das de
    dia do dos duvida e ei eh em entao esse essa esta eu falar favor gostaria isso ja la me
    meu minha minhas meus mim na nas no nos noite o oi ola os para pelo pela por pra pre
    preciso pro problema quero queria quer resolver saber se ser setor sobre tarde
    ta tenho ter tratar um uma uns umas vai ver voce voces area departamento parte falando
""".split())


def fold(text: str) -> str:
    """Lower case ASCII letters, digits and single spaces: accents dropped, a hyphen joins its
    halves ("NF-e" is "nfe", "e-mail" is "email"), any other mark separates words."""
    decomposed = unicodedata.normalize("NFKD", text.replace("-", ""))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return _NOT_WORD.sub(" ", plain).strip()


def singular(word: str) -> str:
    """A plural's singular, by the regular Portuguese endings. Both sides of a comparison go
    through it, so an irregular word only has to come out the same both times."""
    if len(word) <= 3 or not word.endswith("s") or word.endswith(("ss", "us")):
        return word
    for plural, single in (("oes", "ao"), ("aes", "ao"), ("ais", "al"), ("eis", "el"),
                           ("ois", "ol"), ("ns", "m")):
        if word.endswith(plural) and len(word) > len(plural) + 1:
            return word[: -len(plural)] + single
    if word.endswith(("res", "zes", "ses")) and len(word) > 4:
        return word[:-2]
    return word[:-1]


def key_words(text: str) -> tuple[str, ...]:
    """The words that carry the meaning: folded, singular, fillers left out."""
    words = fold(text).split()[:MAX_WORDS]
    return tuple(singular(w) for w in words if w not in FILLERS)
