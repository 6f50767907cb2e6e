"""The webhook's one-pass signature and form parser agree with twilio's and the standard
library's on any input, so the shortcut can never accept what the library would refuse."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from hypothesis import given
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from ivr.webhook import Form, parse_pairs, quick_signature

TOKEN = "0123456789abcdef0123456789abcdef"
text = st.text(st.characters(blacklist_categories=["Cs"]), max_size=30)


@given(st.dictionaries(text, text, max_size=30), st.sampled_from(
    ["https://ivr.example.com/voice", "http://127.0.0.1:8000/voice/step?s=principal.0.0..p"]))
def test_quick_signature_equals_the_librarys(fields: dict[str, str], url: str) -> None:
    form = Form(list(fields.items()))
    expected = RequestValidator(TOKEN).compute_signature(url, fields)
    assert quick_signature(TOKEN.encode(), url, form) == expected


def test_repeated_fields_are_left_to_the_library() -> None:
    form = Form([("a", "1"), ("a", "2")])
    assert form.getall("a") == ["1", "2"]
    assert quick_signature(TOKEN.encode(), "https://x/voice", form) is None


@given(st.lists(st.tuples(text, text), max_size=40))
def test_parser_reads_what_the_standard_library_reads(pairs: list[tuple[str, str]]) -> None:
    body = urlencode(pairs)
    assert parse_pairs(body) == parse_qsl(body, keep_blank_values=True)


@given(st.text(alphabet="ab=&%+2Bz;", max_size=40))
def test_parser_matches_on_odd_bodies(body: str) -> None:
    assert parse_pairs(body) == parse_qsl(body, keep_blank_values=True)
