"""Spoken answers matched to options by their synonyms (ivr/speech/matching.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.speech.matching import Chosen, Unmatched, Unsure, choice, decide
from ivr.speech.words import fold, key_words, singular

CHOICES = (
    choice("7", "Cadastro", ["cadastro", "ativação de cadastro", "acesso ao portal",
                             "e-mail cadastrado", "senha do portal"]),
    choice("1", "TOTVS Educacional", ["educacional", "matrícula", "notas", "frequência",
                                      "portal do aluno"]),
    choice("2", "Gestão Financeira", ["financeiro", "gestão financeira", "boleto", "bolsas",
                                      "contas a receber"]),
    choice("3", "nota fiscal eletrônica", ["nota fiscal", "NF-e", "NFS-e",
                                           "nota fiscal de serviço"]),
)
SURE = 0.92


def chosen(answer: str, confidence: float | None = SURE) -> str | None:
    decision = decide(CHOICES, answer, confidence, 0.5)
    return decision.choice.key if isinstance(decision, Chosen) else None


@pytest.mark.parametrize(("answer", "key"), [
    ("financeiro", "2"),
    ("Financeiro.", "2"),
    ("FINANCEIRO", "2"),
    ("eu quero falar com o financeiro", "2"),
    ("queria falar com o setor financeiro, por favor", "2"),
    ("é sobre um boleto", "2"),
    ("boletos", "2"),
    ("Bolsa de estudo", "2"),
    ("financero", "2"),  # a transcription slip
    ("gestao financeira", "2"),  # no accents
    ("contas a receber", "2"),
    ("nota fiscal", "3"),
    ("notas fiscais", "3"),  # plural of both words
    ("preciso emitir nota fiscal de serviço", "3"),
    ("NFe", "3"),
    ("nf-e", "3"),
    ("as notas do aluno", "1"),  # grades, not invoices
    ("matrícula", "1"),
    ("matricula", "1"),
    ("frequencia dos alunos", "1"),
    ("portal do aluno", "1"),
    ("ativação do cadastro", "7"),
    ("esqueci a senha do portal", "7"),
    ("cadastro", "7"),
    ("oi, bom dia, é sobre o cadastro", "7"),
])
def test_real_sounding_answers_name_their_option(answer: str, key: str) -> None:
    assert chosen(answer) == key


@pytest.mark.parametrize("answer", ["banana", "não sei", "alô", "quero cancelar", "", "bom dia",
                                    "a", "nota", "fiscal"])
def test_answers_naming_no_option_are_unmatched(answer: str) -> None:
    # "nota" alone is the Educacional's "notas"; "fiscal" alone names nothing whole.
    decision = decide(CHOICES, answer, SURE, 0.5)
    if answer == "nota":
        assert isinstance(decision, Chosen) and decision.choice.key == "1"
    else:
        assert decision == Unmatched()


def test_an_answer_naming_two_options_asks_naming_both() -> None:
    decision = decide(CHOICES, "é financeiro ou cadastro", SURE, 0.5)
    assert isinstance(decision, Unsure)
    assert {c.key for c in decision.closest} == {"2", "7"}


def test_a_more_complete_match_wins_over_a_part_of_it() -> None:
    # "nota" is a synonym of 1 ("notas"), "nota fiscal" of 3: 3 accounts for both words.
    assert chosen("nota fiscal") == "3"


def test_low_confidence_asks_again_naming_the_two_closest() -> None:
    decision = decide(CHOICES, "financeiro", 0.2, 0.5)
    assert isinstance(decision, Unsure)
    assert decision.closest[0].key == "2" and len(decision.closest) == 2


def test_low_confidence_near_miss_is_offered_back_but_nonsense_is_not() -> None:
    # "finanças" is too far from "financeiro" to be taken, near enough to be offered when the
    # transcription is in doubt anyway.
    assert decide(CHOICES, "finanças", SURE, 0.5) == Unmatched()
    near = decide(CHOICES, "finanças", 0.2, 0.5)
    assert isinstance(near, Unsure) and [c.key for c in near.closest] == ["2"]
    assert decide(CHOICES, "xyz", 0.2, 0.5) == Unmatched()


def test_no_confidence_given_is_not_low_confidence() -> None:
    assert chosen("financeiro", None) == "2"


def test_a_confidence_at_the_threshold_is_enough() -> None:
    assert chosen("financeiro", 0.5) == "2"
    assert chosen("financeiro", 0.49) is None


@pytest.mark.parametrize(("plural", "single"), [
    ("boletos", "boleto"), ("fiscais", "fiscal"), ("notas", "nota"), ("opcoes", "opcao"),
    ("itens", "item"), ("valores", "valor"), ("papeis", "papel"), ("bolsas", "bolsa"),
    ("mes", "mes"), ("onibus", "onibus"),
])
def test_plurals_fold_to_their_singular(plural: str, single: str) -> None:
    assert singular(plural) == single


def test_folding_drops_accents_case_and_punctuation() -> None:
    assert fold("Gestão Financeira, NF-e!") == "gestao financeira nfe"
    assert key_words("Eu quero falar com o Financeiro, por favor") == ("financeiro",)


@given(st.text(max_size=80), st.one_of(st.none(), st.floats(0, 1)))
def test_any_answer_gets_a_decision_never_an_error(answer: str,
                                                   confidence: float | None) -> None:
    decision = decide(CHOICES, answer, confidence, 0.5)
    if isinstance(decision, Unsure):
        assert 1 <= len(decision.closest) <= 2
        assert len({c.key for c in decision.closest}) == len(decision.closest)
