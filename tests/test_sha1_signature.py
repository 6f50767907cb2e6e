"""The provider's signature computed in one pass equals the twilio library's, for any URL and
any form without repeated fields (the only forms the fast path is used for)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from ivr.provider import Form, sha1_signature

TOKEN = "a" * 32
fields = st.dictionaries(st.text(max_size=12), st.text(max_size=40), max_size=30)
urls = st.one_of(st.text(max_size=80),
                 st.builds(lambda q: "https://ivr.example.com/voice/step?" + q, st.text()))


@settings(max_examples=500)
@given(url=urls, form=fields, token=st.text(min_size=1, max_size=40))
def test_the_signature_equals_the_librarys(url: str, form: dict[str, str], token: str) -> None:
    validator = RequestValidator(token)
    assert sha1_signature(validator.token, url, Form(list(form.items()))) == \
        validator.compute_signature(url, Form(list(form.items())))


def test_a_known_webhook_signs_as_the_library_signs_it() -> None:
    form = {"CallSid": "CA" + "1" * 32, "Digits": "7", "From": "+5511987654321"}
    url = "https://ivr.example.com/voice/step?s=principal.0.0..principal"
    expected = RequestValidator(TOKEN).compute_signature(url, form)
    assert sha1_signature(TOKEN.encode(), url, form) == expected
