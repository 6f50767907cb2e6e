"""Fields of the action URL's query string: the call state and the retry counters."""

from __future__ import annotations

import pytest
from flask import Flask

from ivr.action_urls import call_state, query_counter, query_value
from ivr.state import CallState


def test_fields_are_read_decoded_and_the_first_of_a_repeated_one_wins(app: Flask) -> None:
    query = "s=principal.0.0..principal&q=1&s=other&r=n%C3%A3o+chegou"
    with app.test_request_context("/voice/step?" + query, method="POST"):
        assert query_value("s") == "principal.0.0..principal"
        assert query_value("r") == "não chegou"
        assert query_value("q") == "1"
        assert query_value("missing") is None
        assert call_state() == CallState(node="principal", path=("principal",))


def test_no_query_has_no_fields_and_no_state(app: Flask) -> None:
    with app.test_request_context("/voice/step", method="POST"):
        assert query_value("s") is None
        assert call_state() is None


@pytest.mark.parametrize(("raw", "count"), [
    ("i=3", 3), ("i=0", 0), ("i=12", 0), ("i=-1", 0), ("i=x", 0), ("i=", 0), ("", 0), ("i=٣", 0),
])
def test_a_counter_is_one_digit_or_zero(app: Flask, raw: str, count: int) -> None:
    with app.test_request_context("/voice/step?" + raw, method="POST"):
        assert query_counter("i") == count


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
