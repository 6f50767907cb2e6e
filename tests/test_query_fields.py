"""Fields of the action URL's query string: the call state and the retry counters."""

from __future__ import annotations

import pytest

from ivr.state import CallState
from ivr.webhook import MAX_FIELDS, query_counter, query_value


def environ(query: str) -> dict[str, object]:
    return {"QUERY_STRING": query}


def test_fields_are_read_decoded_and_the_first_of_a_repeated_one_wins() -> None:
    env = environ("s=principal.0.0..principal&q=1&s=other&r=n%C3%A3o+chegou")
    assert query_value(env, "s") == "principal.0.0..principal"
    assert query_value(env, "r") == "não chegou"
    assert query_value(env, "q") == "1"
    assert query_value(env, "missing") is None


def test_no_query_and_an_oversized_query_have_no_fields() -> None:
    assert query_value(environ(""), "s") is None
    assert query_value({}, "s") is None
    flood = "&".join(f"f{n}=1" for n in range(MAX_FIELDS + 1)) + "&s=x"
    assert query_value(environ(flood), "s") is None


@pytest.mark.parametrize(("raw", "count"), [
    ("i=3", 3), ("i=0", 0), ("i=12", 0), ("i=-1", 0), ("i=x", 0), ("i=", 0), ("", 0), ("i=٣", 0),
])
def test_a_counter_is_one_digit_or_zero(raw: str, count: int) -> None:
    assert query_counter(environ(raw), "i") == count


@pytest.mark.parametrize("raw", [
    "principal.٣.0..principal",           # an Arabic-Indic three as a counter
    "principal.0.0.١٢٣٤٥٦٧٨.principal",   # a ticket number in another script's digits
    "principal.12.0..principal",
    "principal.0.0.12345678901234567.principal",
])
def test_a_state_with_anything_but_ascii_digits_in_its_numbers_is_refused(raw: str) -> None:
    assert CallState.decode(raw) is None


def test_a_well_formed_state_still_decodes() -> None:
    state = CallState.decode("consulta_chamado.1.2.12345678.principal-consulta_chamado")
    assert state == CallState(node="consulta_chamado", invalid=1, silence=2, entry="12345678",
                              path=("principal", "consulta_chamado"))
