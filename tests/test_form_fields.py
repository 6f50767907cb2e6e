"""The webhook's field parser gives exactly the pairs the library's ``parse_qsl`` gives."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ivr.form_fields import MAX_FIELDS, parse_pairs

# Raw form text, with the characters that matter to the format over-represented.
raw_text = st.text(alphabet=st.one_of(st.sampled_from("&=+%2B0aF;# "), st.characters()),
                   max_size=120)
fields = st.lists(st.tuples(st.text(max_size=12), st.text(max_size=20)), max_size=30)


@settings(max_examples=500)
@given(text=raw_text)
def test_any_text_parses_as_the_library_parses_it(text: str) -> None:
    assert parse_pairs(text) == parse_qsl(text, keep_blank_values=True)


@settings(max_examples=300)
@given(pairs=fields)
def test_encoded_fields_come_back_as_they_were(pairs: list[tuple[str, str]]) -> None:
    text = urlencode(pairs)
    assert parse_pairs(text) == parse_qsl(text, keep_blank_values=True) == pairs


def test_more_fields_than_any_webhook_are_refused() -> None:
    assert len(parse_pairs("&".join(["a=1"] * MAX_FIELDS))) == MAX_FIELDS
    with pytest.raises(ValueError, match="too many fields"):
        parse_pairs("&".join(["a=1"] * (MAX_FIELDS + 1)))
