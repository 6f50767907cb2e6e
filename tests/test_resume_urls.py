"""Action URLs carry the call state and read right under any script root and public base URL."""

from __future__ import annotations

from typing import Any

from flask import Flask, url_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivr.action_urls import resume_url
from ivr.actions import Resume
from ivr.state import CallState
from tests.twiml import Doc

NODE = st.one_of(st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True),
                # Never a node name, but the URL must still read right: the quoted path.
                st.text(alphabet="a b+&=%/~.é", min_size=1, max_size=6))
STATES = st.builds(
    CallState, node=NODE, invalid=st.integers(0, 9), silence=st.integers(0, 9),
    entry=st.from_regex(r"[0-9]{0,8}", fullmatch=True), path=st.lists(NODE, max_size=4).map(tuple))
PARAMS = st.lists(st.tuples(st.sampled_from(["q", "m", "i", "a", "r"]),
                            st.text(max_size=6)), max_size=3, unique_by=lambda p: p[0])


def voice_endpoints(app: Flask) -> list[str]:
    return sorted(rule.endpoint for rule in app.url_map.iter_rules()
                  if rule.rule.startswith("/voice") and not rule.arguments)


def test_every_voice_endpoint_is_covered(app: Flask) -> None:
    assert {"ivr.step", "ivr.dialed", "auth.login", "tickets.status"} <= set(voice_endpoints(app))


# The app is only read (PUBLIC_BASE_URL is set afresh for each example).
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(state=STATES, params=PARAMS, root=st.sampled_from(["", "/ivr", "/a b"]),
       base=st.sampled_from([None, "https://ivr.example.com"]), data=st.data())
def test_resume_urls_read_as_url_for_writes_them(
    app: Flask, state: CallState, params: list[tuple[str, str]], root: str, base: str | None,
    data: st.DataObject,
) -> None:
    endpoint = data.draw(st.sampled_from(voice_endpoints(app)))
    app.config["PUBLIC_BASE_URL"] = base
    with app.test_request_context("/voice", base_url="http://localhost" + root):
        values: dict[str, Any] = {"s": state.encode(), **dict(params)}  # url_for's **values
        expected = url_for(endpoint, **values)
        assert resume_url(Resume(endpoint, state, tuple(params))) == (base or "") + expected


def test_a_cached_document_never_crosses_script_roots(app: Flask) -> None:
    """The same step served under two mount points: each answer points under its own."""
    app.config["VALIDATE_SIGNATURES"] = False
    client = app.test_client()
    for root in ("/a", "/b", "/a"):
        response = client.post("/voice", data={"CallSid": "CA" + "7" * 32},
                               environ_overrides={"SCRIPT_NAME": root})
        action = Doc.parse(response.data).gather.attrib["action"]
        assert action.startswith(root + "/voice/step?s=principal."), action
