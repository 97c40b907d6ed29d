"""POST {prefix}/web-calls, the body: created exactly as asked, or 400 with nothing sent to HMS and no slot
held. ``accepted`` is the README's rule, the oracle of the properties; the hand-picked bodies say what it
answers for each nasty case."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st

from flask_hms_webcall import ConfigurationError
from tests.hostile.contract import assert_clean, assert_refused, hostile_app, slots
from tests.hostile.strategies import BOUNDED, CHARS, JSON_VALUES, TEXT, encode
from tests.hostile.streams import Endless, post_stream
from tests.support import ASSISTANT_ID, RESPONSE_FIELDS, SALES_ID, StubHMS, client_for, stubbed_hms

MAX_BODY = 8 * 1024  # README: "a body over 8 KiB ... is 400 invalid_request"
CONTEXT_KEY = re.compile(r"[A-Za-z0-9_-]{1,40}")
ASSISTANT_NAMES = {"sales"}
# An anonymous caller also gets the token that lets them rate the call.
CREATED_FIELDS = RESPONSE_FIELDS | {"feedback_token"}
REFUSED = None  # 400 invalid_request: nothing sent to HMS, no slot held

# Content-Type header -> whether it says JSON.
CONTENT_TYPES = {
    None: False,
    "": False,
    "application/json": True,
    "application/json; charset=utf-8": True,
    "Application/JSON": True,
    "text/plain": False,
    "text/json": False,
    "application/jsonp": False,
    "application/merge-patch+json": False,
    "application/x-www-form-urlencoded": False,
    "multipart/form-data; boundary=xyz": False,
}


def accepted(raw: bytes, content_type: str | None) -> dict | None:
    """The browser request the README promises to accept, or ``REFUSED``: at most 8 KiB; empty means all
    defaults; otherwise ``application/json``, an object with only ``assistant`` (a configured name) and
    ``context`` (<= 10 entries, keys of 1-40 letters, digits, '_' or '-', string values <= 200)."""
    if len(raw) > MAX_BODY:
        return REFUSED
    if not raw.strip():
        return {}
    if not CONTENT_TYPES[content_type]:
        return REFUSED
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return REFUSED
    if not isinstance(data, dict) or set(data) - {"assistant", "context"}:
        return REFUSED
    if "assistant" in data and not (
        isinstance(data["assistant"], str) and data["assistant"] in ASSISTANT_NAMES
    ):
        return REFUSED
    context = data.get("context", {})
    if not isinstance(context, dict) or len(context) > 10:
        return REFUSED
    for key, value in context.items():
        if not CONTEXT_KEY.fullmatch(key) or not isinstance(value, str) or len(value) > 200:
            return REFUSED
    return data


def check_web_call(
    app: Flask, hms: StubHMS, raw: bytes, content_type: str | None, expected: dict | None
) -> None:
    """POST ``raw`` and hold the answer to ``expected``: created exactly as asked, or refused with nothing
    sent and no slot held."""
    headers = {} if content_type is None else {"Content-Type": content_type}
    # input_stream, not data: the test client would write a multipart body of its own for an empty one.
    response = client_for(app).post("/hms/web-calls", input_stream=io.BytesIO(raw), headers=headers)
    if expected is REFUSED:
        assert_refused(response, "invalid_request")
        assert hms.count == 0
        assert slots(app) == 0
        return
    assert response.status_code == 201, response.get_data(as_text=True)
    assert_clean(response)
    assert set(response.get_json()) == CREATED_FIELDS
    assert hms.count == 1
    [sent] = hms.bodies
    assert sent["assistant_id"] == (SALES_ID if expected.get("assistant") == "sales" else ASSISTANT_ID)
    metadata = sent.get("assistant_override", {}).get("metadata", {})
    assert metadata.get("context", {}) == expected.get("context", {})
    assert "user_id" not in metadata  # anonymous: nobody's id, whatever the body said
    assert slots(app) == 1


# ------------------------------------------------------------------------------------------- properties

CONTEXT_KEYS = st.one_of(
    st.from_regex(r"[A-Za-z0-9_-]{1,40}", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9_-]{1,40}\n", fullmatch=True),  # "$" in a regex would let these through
    st.from_regex(r"[A-Za-z0-9_-]{39,42}", fullmatch=True),
    TEXT,
)
CONTEXT_VALUES = st.one_of(
    st.text(CHARS, max_size=40),
    st.text(st.characters(categories=["Cs"]), min_size=195, max_size=205),
    st.text(min_size=195, max_size=205),
    JSON_VALUES,
)
ASSISTANTS = st.one_of(
    st.sampled_from(["sales", "Sales", "sales ", " sales", "sales\n", "sales\x00", "", "x" * 65, "default"]),
    JSON_VALUES,
)
NEAR_VALID = st.builds(
    lambda base, extra: {**base, **extra},
    st.fixed_dictionaries(
        {},
        optional={
            "assistant": ASSISTANTS,
            "context": st.one_of(st.dictionaries(CONTEXT_KEYS, CONTEXT_VALUES, max_size=12), JSON_VALUES),
        },
    ),
    st.one_of(
        st.just({}),
        st.dictionaries(
            st.sampled_from(["assistant_id", "assistant_override", "metadata", "user_id", "Assistant", "x"]),
            JSON_VALUES,
            max_size=2,
        ),
    ),
)


@BOUNDED
@given(
    raw=st.one_of(
        st.binary(max_size=512),
        st.binary(min_size=MAX_BODY - 2, max_size=MAX_BODY + 2),
        st.builds(encode, JSON_VALUES, st.booleans()),
    ),
    content_type=st.sampled_from(list(CONTENT_TYPES)),
)
def test_arbitrary_bodies_are_created_as_asked_or_refused_with_nothing_sent(raw, content_type):
    app, _, _ = hostile_app()
    with stubbed_hms() as hms:
        check_web_call(app, hms, raw, content_type, accepted(raw, content_type))


@BOUNDED
@given(body=NEAR_VALID, ascii_only=st.booleans(), content_type=st.sampled_from(list(CONTENT_TYPES)))
def test_near_valid_bodies_are_created_as_asked_or_refused_with_nothing_sent(body, ascii_only, content_type):
    app, _, _ = hostile_app()
    raw = encode(body, ascii_only)
    with stubbed_hms() as hms:
        check_web_call(app, hms, raw, content_type, accepted(raw, content_type))


# ------------------------------------------------------------------------------------------ hand-picked

# (what it is, the body sent as application/json, what HMS is asked for: the body as accepted, or REFUSED)
HAND_PICKED_BODIES: list[tuple[str, bytes, Any]] = [
    ("1e400", b'{"context": {"a": 1e400}}', REFUSED),
    ("-1e400 as the body", b"-1e400", REFUSED),
    ("1e400 as the assistant", b'{"assistant": 1e400}', REFUSED),
    ("a 5000-digit number", b'{"context": {"a": ' + b"9" * 5000 + b"}}", REFUSED),
    ("Infinity", b'{"context": {"a": Infinity}}', REFUSED),
    # A lone surrogate is text JSON can carry: passed on escaped, never as invalid UTF-8.
    (
        "escaped lone surrogate in a value",
        b'{"context": {"page": "\\ud800"}}',
        {"context": {"page": "\ud800"}},
    ),
    ("escaped lone surrogate in a key", b'{"context": {"\\udfff": "x"}}', REFUSED),
    ("escaped lone surrogate as the assistant", b'{"assistant": "\\ud83d"}', REFUSED),
    (
        "surrogate pair split across keys",
        b'{"context": {"a": "\\ud83d", "b": "\\ude00"}}',
        {"context": {"a": "\ud83d", "b": "\ude00"}},
    ),
    ("encoded surrogate bytes", b'{"context": {"page": "\xed\xa0\x80"}}', {"context": {"page": "\ud800"}}),
    ("escaped NUL in a value", b'{"context": {"page": "\\u0000"}}', {"context": {"page": "\x00"}}),
    ("raw NUL in a value", b'{"context": {"page": "\x00"}}', REFUSED),
    ("NUL after the object", b'{"context": {}}\x00', REFUSED),
    ("escaped NUL in the assistant", b'{"assistant": "sales\\u0000"}', REFUSED),
    ("newline after a context key", b'{"context": {"page\\n": "x"}}', REFUSED),
    ("newline after the assistant", b'{"assistant": "sales\\n"}', REFUSED),
    ("10k keys", b"{" + b",".join(b'"k%d":1' % i for i in range(10_000)) + b"}", REFUSED),
    (
        "10k context entries",
        b'{"context": {' + b",".join(b'"k%d":""' % i for i in range(10_000)) + b"}}",
        REFUSED,
    ),
    (
        "11 entries under the size limit",
        json.dumps({"context": {f"k{i}": "" for i in range(11)}}).encode(),
        REFUSED,
    ),
    ("deep nesting in context", b'{"context": ' + b"{" * 4000 + b"}" * 4000 + b"}", REFUSED),
    ("deep nesting as the body", b"[" * 4000 + b"]" * 4000, REFUSED),
    ("a huge string", b'{"context": {"a": "' + b"x" * 100_000 + b'"}}', REFUSED),
    # 200 characters is the limit, however many bytes they take.
    (
        "200 escaped characters",
        b'{"context": {"a": "' + b"\\u00e9" * 200 + b'"}}',
        {"context": {"a": "é" * 200}},
    ),
    ("201 escaped characters", b'{"context": {"a": "' + b"\\u00e9" * 201 + b'"}}', REFUSED),
    (
        "200 astral characters",
        json.dumps({"context": {"a": "\U0001f600" * 200}}).encode(),
        {"context": {"a": "\U0001f600" * 200}},
    ),
    ("UTF-8 BOM", b'\xef\xbb\xbf{"assistant": "sales"}', {"assistant": "sales"}),
    ("UTF-16", '{"assistant": "sales"}'.encode("utf-16"), {"assistant": "sales"}),
    ("invalid UTF-8", b'{"context": {"a": "\xc3\x28"}}', REFUSED),
    ("duplicate keys, the last one wrong", b'{"assistant": "sales", "assistant": 1}', REFUSED),
    ("duplicate keys, the last one right", b'{"assistant": 1, "assistant": "sales"}', {"assistant": "sales"}),
    ("trailing comma", b'{"assistant": "sales",}', REFUSED),
    ("a JSON string holding an object", json.dumps('{"assistant": "sales"}').encode(), REFUSED),
    ("whitespace only", b" \t\r\n", {}),
    ("whitespace and a vertical tab", b" \x0b ", {}),
    ("only a BOM", b"\xef\xbb\xbf", REFUSED),
]


@pytest.mark.parametrize(
    ("body", "expected"),
    [pytest.param(body, expected, id=name) for name, body, expected in HAND_PICKED_BODIES],
)
def test_hand_picked_bodies(hms, body, expected):
    assert accepted(body, "application/json") == expected  # the properties' oracle says the same
    app, _, _ = hostile_app()
    check_web_call(app, hms, body, "application/json", expected)


def test_a_refused_body_holds_no_slot_and_the_next_good_one_works(hms):
    app, _, _ = hostile_app()
    client = client_for(app)
    for _, body, expected in HAND_PICKED_BODIES:
        if expected is REFUSED:
            client.post("/hms/web-calls", data=body, content_type="application/json")
    assert hms.count == 0 and slots(app) == 0
    assert client.post("/hms/web-calls", json={"assistant": "sales"}).status_code == 201


def test_a_streamed_body_is_read_no_further_than_the_limit(hms):
    app, _, _ = hostile_app()
    stream = Endless()
    response = post_stream(app, "/hms/web-calls", stream, {"Content-Type": "application/json"})
    assert_refused(response, "invalid_request")
    assert stream.served <= MAX_BODY + 1
    assert hms.count == 0 and slots(app) == 0


def test_a_chunked_web_call_over_the_apps_max_content_length_is_413(hms):
    app, _, _ = hostile_app(MAX_CONTENT_LENGTH=1024)
    # Valid JSON for its first 1024 bytes: cutting it there and going on would start a call.
    body = b'{"assistant": "sales"}' + b" " * 4000
    stream = Endless(data=body, size=len(body))
    response = post_stream(app, "/hms/web-calls", stream, {"Content-Type": "application/json"})
    assert_refused(response, "payload_too_large", "invalid_request")
    assert hms.count == 0 and slots(app) == 0


def test_a_body_shorter_than_its_declared_length_starts_no_call(hms):
    # Whole JSON, but the client declared more than it sent: the request was cut off, so none of it counts.
    app, _, _ = hostile_app()
    body = b'{"assistant": "sales"}'
    headers = {"Content-Type": "application/json"}
    stream = Endless(data=body, size=len(body))
    response = post_stream(app, "/hms/web-calls", stream, headers, content_length=len(body) + 10)
    assert_refused(response, "invalid_request")
    assert hms.count == 0 and slots(app) == 0
    # The same body with its true length starts one.
    stream = Endless(data=body, size=len(body))
    assert post_stream(app, "/hms/web-calls", stream, headers, content_length=len(body)).status_code == 201


def test_an_assistant_name_with_a_trailing_newline_is_refused_at_startup():
    with pytest.raises(ConfigurationError, match="HMS_ASSISTANTS"):
        hostile_app(HMS_ASSISTANTS={"sales\n": SALES_ID})
