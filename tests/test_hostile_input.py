"""Hostile input against every route of the extension: "bad input gets a clear error in the documented JSON
shape and changes nothing: no 500s, no stack traces to the browser, no secret in any response, page or log".

Property-based (hypothesis) where the input space is large, hand-picked where one nasty case says more.
Each property compares the answer with the contract as the README states it (which body is accepted, which
origin is the site's own), so a change that accepts too much or refuses too much fails here.
"""

from __future__ import annotations

import io
import json
import logging
import re
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import quote

import pytest
import requests
import responses
from flask import Flask, Response
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import EnvironBuilder, run_wsgi_app

from flask_hms_webcall import ConfigurationError, HMSAPIError, HMSClient, HMSWebCall
from flask_hms_webcall.signature import signature_header
from tests.conftest import free_port

API_KEY = "sk_live_HARDEN_k9Q2xV7mZ4pL8rT1wY6"
WEBHOOK_SECRET = "whsec_HARDEN_b6N3yC8dF1gJ5sW0qE4"
OLD_WEBHOOK_SECRET = "whsec_HARDEN_previous_u2H7aK9mP3"
SECRETS = (API_KEY, WEBHOOK_SECRET, OLD_WEBHOOK_SECRET)
ASSISTANT_ID = "17a0cb75-fa09-4bdd-9a44-92a70d829c88"
SALES_ID = "5a4db0c5-0000-4000-8000-000000000002"
URL = "https://assistant-api.hmsovereign.com/v1/web-calls"
SITE = "http://localhost"  # the Flask test client's own origin
RESPONSE_FIELDS = {"call_id", "room_name", "token", "server_url", "expires_in", "max_duration"}
MAX_BODY = 8 * 1024  # README: "a body over 8 KiB ... is 400 invalid_request"

# The browser contract's error table (DESIGN.md / README), plus the JSON answers for 404/405/413 under the
# prefix and the webhook route's own codes.
DOCUMENTED_ERRORS = {
    "invalid_request": 400,
    "unauthenticated": 401,
    "forbidden_origin": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "payload_too_large": 413,
    "rate_limited": 429,
    "too_many_calls": 429,
    "misconfigured": 500,
    "upstream_error": 502,
    "busy": 503,
    "unavailable": 503,
    "upstream_timeout": 504,
    "invalid_signature": 401,
    "invalid_payload": 400,
}

# Enough examples to find the odd case, few enough that the file runs in seconds. No example database: the
# tests must not write into the working tree.
BOUNDED = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# ------------------------------------------------------------------------------------------------ helpers


class Upstream:
    """A stubbed HMS ``POST /v1/web-calls``: a fresh call each time unless told otherwise. Any other URL is
    refused by ``responses`` (and would show up as a 502 in the test that made it)."""

    def __init__(self, mock: responses.RequestsMock) -> None:
        self.mock = mock
        self.answer: Any = None
        self.n = 0
        mock.add_callback(responses.POST, URL, callback=self._respond)

    def _respond(self, request: Any) -> tuple[int, dict, str | bytes]:
        if callable(self.answer):
            return self.answer(request)
        if isinstance(self.answer, BaseException):
            raise self.answer
        if self.answer is not None:
            return self.answer
        self.n += 1
        call = {
            "call_id": f"call-{self.n}",
            "room_name": f"web-{self.n}",
            "token": f"jwt-{self.n}",
            "server_url": "wss://rtc.hmsovereign.com",
        }
        return 200, {}, json.dumps(call)

    @property
    def count(self) -> int:
        return len(self.mock.calls)

    def sent(self, index: int = 0) -> dict:
        raw = self.mock.calls[index].request.body
        # Whatever the browser sent, HMS receives strict UTF-8 JSON (lone surrogates escaped, no NaN).
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        return json.loads(text, parse_constant=_refuse_constant)


def _refuse_constant(name: str) -> None:
    raise AssertionError(f"{name} sent upstream: not JSON")


@contextmanager
def upstream() -> Iterator[Upstream]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield Upstream(mock)


@pytest.fixture
def hms() -> Iterator[Upstream]:
    with upstream() as stub:
        yield stub


def make_app(**config: Any) -> tuple[Flask, HMSWebCall, list]:
    """An app with a default assistant and one named one; visitors are anonymous (keyed by IP) until a test
    sets ``app.config["TEST_USER"]``. Returns the app, the extension and the events its handlers received."""
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="test",
        HMS_API_KEY=API_KEY,
        HMS_ASSISTANT_ID=ASSISTANT_ID,
        HMS_ASSISTANTS={"sales": SALES_ID},
        HMS_WEBHOOK_SECRET=[WEBHOOK_SECRET, OLD_WEBHOOK_SECRET],
        HMS_RATE_LIMIT="1000 per minute",
        HMS_MAX_CALLS_PER_USER=1,
    )
    app.config.update(config)
    webcall = HMSWebCall(app)
    seen: list = []

    @webcall.identity_loader
    def who() -> str | None:
        return app.config.get("TEST_USER")

    @webcall.on()
    def record(event: Any) -> None:
        seen.append(event)

    @webcall.tool("echo")
    def echo(arguments: dict, event: Any) -> Any:
        return arguments

    @webcall.tool("boom")
    def boom(arguments: dict, event: Any) -> Any:
        raise RuntimeError("the tool broke")

    return app, webcall, seen


def client_for(app: Flask, ip: str = "203.0.113.7") -> Any:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    return client


def slots(app: Flask) -> int:
    return app.extensions["hms_webcall"].store.active_calls()


def secrets_in(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


def assert_clean(response: Response) -> None:
    """No stack trace, no HTML page, no secret: in the body or in any header."""
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and 'File "' not in text
    assert "<html" not in text.lower() and "<!doctype" not in text.lower()
    assert secrets_in(text) == []
    for name, value in response.headers.items():
        assert secrets_in(f"{name}: {value}") == [], name


def assert_error(response: Response, *codes: str) -> str:
    """One of ``codes`` (any documented code when none given), exactly ``{"error": {"code", "message"}}``,
    with the status the contract gives that code."""
    assert_clean(response)
    assert response.status_code != 500 or "misconfigured" in codes, response.get_data(as_text=True)
    assert response.mimetype == "application/json", response.get_data(as_text=True)[:200]
    body = response.get_json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = body["error"]
    assert isinstance(error, dict) and set(error) == {"code", "message"}, error
    assert isinstance(error["message"], str) and error["message"].strip()
    assert error["code"] in (codes or DOCUMENTED_ERRORS), error
    assert response.status_code == DOCUMENTED_ERRORS[error["code"]], (response.status_code, error)
    assert response.headers.get("Cache-Control") == "no-store"
    return error["code"]


def assert_no_secret_logged(records: list[logging.LogRecord]) -> None:
    for record in records:
        parts = [record.getMessage(), repr(record.args), record.exc_text or ""]
        if record.exc_info and record.exc_info[1] is not None:
            parts.append("".join(traceback.format_exception(*record.exc_info)))
        text = "\n".join(parts)
        assert secrets_in(text) == [], f"{record.name}: {text[:300]}"


# ------------------------------------------------------------------------------------ the browser contract

CONTEXT_KEY = re.compile(r"[A-Za-z0-9_-]{1,40}")
ASSISTANT_NAMES = {"sales"}
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
    """The browser request the README promises to accept, or ``None`` when it must be a 400: at most 8 KiB;
    empty means all defaults; otherwise ``application/json``, an object with only ``assistant`` (a configured
    name) and ``context`` (<= 10 entries, keys of 1-40 letters, digits, '_' or '-', string values <= 200)."""
    if len(raw) > MAX_BODY:
        return None
    if not raw.strip():
        return {}
    if not CONTENT_TYPES[content_type]:
        return None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or set(data) - {"assistant", "context"}:
        return None
    if "assistant" in data and not (
        isinstance(data["assistant"], str) and data["assistant"] in ASSISTANT_NAMES
    ):
        return None
    context = data.get("context", {})
    if not isinstance(context, dict) or len(context) > 10:
        return None
    for key, value in context.items():
        if not CONTEXT_KEY.fullmatch(key) or not isinstance(value, str) or len(value) > 200:
            return None
    return data


def check_web_call(app: Flask, hms: Upstream, raw: bytes, content_type: str | None, **kwargs: Any) -> None:
    """POST ``raw`` and hold the answer to the contract: created exactly as asked, or refused with nothing
    sent and no slot held."""
    expected = accepted(raw, content_type)
    headers = {} if content_type is None else {"Content-Type": content_type}
    # input_stream, not data: the test client would write a multipart body of its own for an empty one.
    response = client_for(app).post("/hms/web-calls", input_stream=io.BytesIO(raw), headers=headers, **kwargs)
    if expected is None:
        assert_error(response, "invalid_request")
        assert hms.count == 0
        assert slots(app) == 0
        return
    assert response.status_code == 201, response.get_data(as_text=True)
    assert_clean(response)
    assert set(response.get_json()) == RESPONSE_FIELDS
    assert hms.count == 1
    sent = hms.sent()
    assert sent["assistant_id"] == (SALES_ID if expected.get("assistant") == "sales" else ASSISTANT_ID)
    metadata = sent.get("assistant_override", {}).get("metadata", {})
    assert metadata.get("context", {}) == expected.get("context", {})
    assert "user_id" not in metadata  # anonymous: nobody's id, whatever the body said
    assert slots(app) == 1


# Text with everything JSON can carry: control characters, NUL, BOM, RTL override, astral characters and
# lone surrogates (which json.dumps escapes as \udXXX, the way a hostile page would send them).
CHARS = st.one_of(
    st.characters(),
    st.characters(categories=["Cs"]),
    st.sampled_from(["\x00", "\n", "\u2028", "\ufeff", "\u202e", "\U0001f600", "\\", '"']),
)
TEXT = st.text(CHARS, max_size=30)
JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    TEXT,
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=12,
)
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


def encode(value: Any, ascii_only: bool) -> bytes:
    # Escaped (\udXXX) or raw UTF-8 with surrogates passed through: a server decoding with surrogatepass sees
    # the same text either way.
    return json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


# --------------------------------------------------------------------------- POST /web-calls: the body


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
    app, _, _ = make_app()
    with upstream() as hms:
        check_web_call(app, hms, raw, content_type)


@BOUNDED
@given(body=NEAR_VALID, ascii_only=st.booleans(), content_type=st.sampled_from(list(CONTENT_TYPES)))
def test_near_valid_bodies_are_created_as_asked_or_refused_with_nothing_sent(body, ascii_only, content_type):
    app, _, _ = make_app()
    with upstream() as hms:
        check_web_call(app, hms, encode(body, ascii_only), content_type)


HAND_PICKED_BODIES = {
    "1e400": b'{"context": {"a": 1e400}}',
    "-1e400 as the body": b"-1e400",
    "1e400 as the assistant": b'{"assistant": 1e400}',
    "a 5000-digit number": b'{"context": {"a": ' + b"9" * 5000 + b"}}",
    "Infinity": b'{"context": {"a": Infinity}}',
    "escaped lone surrogate in a value": b'{"context": {"page": "\\ud800"}}',
    "escaped lone surrogate in a key": b'{"context": {"\\udfff": "x"}}',
    "escaped lone surrogate as the assistant": b'{"assistant": "\\ud83d"}',
    "surrogate pair split across keys": b'{"context": {"a": "\\ud83d", "b": "\\ude00"}}',
    "encoded surrogate bytes": b'{"context": {"page": "\xed\xa0\x80"}}',
    "escaped NUL in a value": b'{"context": {"page": "\\u0000"}}',
    "raw NUL in a value": b'{"context": {"page": "\x00"}}',
    "NUL after the object": b'{"context": {}}\x00',
    "escaped NUL in the assistant": b'{"assistant": "sales\\u0000"}',
    "newline after a context key": b'{"context": {"page\\n": "x"}}',
    "newline after the assistant": b'{"assistant": "sales\\n"}',
    "10k keys": b"{" + b",".join(b'"k%d":1' % i for i in range(10_000)) + b"}",
    "10k context entries": b'{"context": {' + b",".join(b'"k%d":""' % i for i in range(10_000)) + b"}}",
    "11 entries under the size limit": json.dumps({"context": {f"k{i}": "" for i in range(11)}}).encode(),
    "deep nesting in context": b'{"context": ' + b"{" * 4000 + b"}" * 4000 + b"}",
    "deep nesting as the body": b"[" * 4000 + b"]" * 4000,
    "a huge string": b'{"context": {"a": "' + b"x" * 100_000 + b'"}}',
    "200 escaped characters": b'{"context": {"a": "' + b"\\u00e9" * 200 + b'"}}',
    "201 escaped characters": b'{"context": {"a": "' + b"\\u00e9" * 201 + b'"}}',
    "200 astral characters": json.dumps({"context": {"a": "\U0001f600" * 200}}).encode(),
    "UTF-8 BOM": b'\xef\xbb\xbf{"assistant": "sales"}',
    "UTF-16": '{"assistant": "sales"}'.encode("utf-16"),
    "invalid UTF-8": b'{"context": {"a": "\xc3\x28"}}',
    "duplicate keys, the last one wrong": b'{"assistant": "sales", "assistant": 1}',
    "duplicate keys, the last one right": b'{"assistant": 1, "assistant": "sales"}',
    "trailing comma": b'{"assistant": "sales",}',
    "a JSON string holding an object": json.dumps('{"assistant": "sales"}').encode(),
    "whitespace only": b" \t\r\n",
    "whitespace and a vertical tab": b" \x0b ",
    "only a BOM": b"\xef\xbb\xbf",
}


@pytest.mark.parametrize("name", list(HAND_PICKED_BODIES))
def test_hand_picked_bodies(hms, name):
    app, _, _ = make_app()
    check_web_call(app, hms, HAND_PICKED_BODIES[name], "application/json")


def test_a_streamed_body_is_read_no_further_than_the_limit(hms):
    app, _, _ = make_app()
    stream = Endless()
    response = post_stream(app, "/hms/web-calls", stream, {"Content-Type": "application/json"})
    assert_error(response, "invalid_request")
    assert stream.served <= MAX_BODY + 1
    assert hms.count == 0 and slots(app) == 0


# ------------------------------------------------------------------------ POST /web-calls: the headers

ORIGIN_SPELLINGS_OF_THE_SITE = [
    "http://localhost",
    "HTTP://LOCALHOST",
    "http://LocalHost",
    "http://localhost/",
    "http://localhost:80",
]
FOREIGN_ORIGINS = [
    "null",
    "",
    "file://",
    "https://localhost",  # another scheme is another origin
    "http://localhost:8080",
    "http://localhost:443",
    "http://localhost.evil.example",
    "http://evillocalhost",
    "http://user@localhost",
    "http://user:pass@localhost",
    "http://localhost@evil.example",
    "http://evil.example#@localhost",
    "http://evil.example\\@localhost",
    "http://localhost/path",
    "http://localhost?x=1",
    "http://127.0.0.1",
    "http://[::1]",
    "ws://localhost",
    "localhost",
    "//localhost",
    "http://localhost:99999",
    "http://localhost:-1",
    "http://[localhost",
    "http://local host",
    "*",
    "http://localhost, http://evil.example",
]


@pytest.mark.parametrize("origin", ORIGIN_SPELLINGS_OF_THE_SITE)
def test_spellings_of_the_sites_own_origin_are_allowed(hms, origin):
    app, _, _ = make_app()
    response = client_for(app).post("/hms/web-calls", headers={"Origin": origin})
    assert response.status_code == 201
    assert hms.count == 1


@pytest.mark.parametrize("origin", FOREIGN_ORIGINS)
def test_foreign_origins_are_refused_changing_nothing(hms, origin):
    app, _, _ = make_app(HMS_RATE_LIMIT="1 per minute")
    client = client_for(app)
    for method in ("OPTIONS", "POST"):
        response = client.open("/hms/web-calls", method=method, headers={"Origin": origin})
        assert_error(response, "forbidden_origin")
        assert "Access-Control-Allow-Origin" not in response.headers
    assert hms.count == 0 and slots(app) == 0
    # The refusals used up nothing: the visitor's one attempt a minute is still there.
    assert client.post("/hms/web-calls").status_code == 201


HOSTNAMES = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?(\.[a-z]{2,6}){0,2}", fullmatch=True)


@BOUNDED
@given(
    scheme=st.sampled_from(["http", "https", "HTTP", "ws", "ftp"]),
    host=HOSTNAMES.filter(lambda host: host != "localhost"),
    port=st.one_of(st.none(), st.integers(0, 65535)),
    slash=st.booleans(),
)
def test_random_foreign_origins_are_refused(scheme, host, port, slash):
    app, _, _ = make_app()
    origin = f"{scheme}://{host}" + ("" if port is None else f":{port}") + ("/" if slash else "")
    with upstream() as hms:
        response = client_for(app).post("/hms/web-calls", headers={"Origin": origin})
        assert_error(response, "forbidden_origin")
        assert hms.count == 0 and slots(app) == 0


HEADER_TEXT = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=60
)
HOSTILE_HEADERS = st.dictionaries(
    st.sampled_from(
        [
            "Origin",
            "Host",
            "Content-Type",
            "Cookie",
            "Authorization",
            "X-Forwarded-For",
            "X-Forwarded-Host",
            "X-Forwarded-Proto",
            "X-Forwarded-Port",
            "X-Forwarded-Prefix",
            "X-Real-IP",
            "Forwarded",
            "Access-Control-Request-Headers",
            "Access-Control-Request-Method",
            "Accept",
        ]
    ),
    st.one_of(
        HEADER_TEXT, st.sampled_from(["null", SITE, "https://evil.example", "evil.example", "1.2.3.4"])
    ),
    max_size=6,
)


@BOUNDED
@given(headers=HOSTILE_HEADERS, method=st.sampled_from(["POST", "OPTIONS"]))
def test_hostile_headers_never_break_the_route(headers, method):
    app, _, _ = make_app()
    with upstream() as hms:
        response = client_for(app).open("/hms/web-calls", method=method, headers=headers)
        if response.status_code in (201, 204):
            assert_clean(response)
            assert hms.count == (1 if response.status_code == 201 else 0)
            return
        assert_error(response)
        assert hms.count == 0 and slots(app) == 0


def test_forwarded_headers_are_not_trusted_without_proxyfix(hms):
    app, _, _ = make_app(HMS_RATE_LIMIT="2 per minute")
    client = client_for(app)
    # Claiming to be the site's public host through X-Forwarded-* does not make a foreign page same-origin.
    spoofed = {
        "Origin": "https://evil.example",
        "X-Forwarded-Host": "evil.example",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Port": "443",
        "Forwarded": "host=evil.example;proto=https",
    }
    assert_error(client.post("/hms/web-calls", headers=spoofed), "forbidden_origin")
    assert hms.count == 0

    # Nor does a made-up client address give an anonymous visitor a fresh identity: limits follow the
    # connection's address.
    assert client.post("/hms/web-calls", headers={"X-Forwarded-For": "198.51.100.1"}).status_code == 201
    assert_error(
        client.post(
            "/hms/web-calls", headers={"X-Forwarded-For": "198.51.100.2", "X-Real-IP": "198.51.100.3"}
        ),
        "too_many_calls",
    )
    assert_error(client.post("/hms/web-calls", headers={"X-Forwarded-For": "198.51.100.4"}), "rate_limited")
    assert hms.count == 1 and slots(app) == 1


def test_refused_for_identity_changes_nothing(hms):
    app, _, _ = make_app(HMS_REQUIRE_IDENTITY=True, HMS_RATE_LIMIT="1 per minute")
    client = client_for(app)
    for raw in (b"", b'{"assistant": "sales"}', b"garbage", b"x" * 20_000):
        response = client.post("/hms/web-calls", data=raw, content_type="application/json")
        assert_error(response, "unauthenticated")
    assert hms.count == 0 and slots(app) == 0
    # Not even the rate limit of the address was touched: once signed in, the one attempt is there.
    app.config["TEST_USER"] = "alice"
    assert client.post("/hms/web-calls").status_code == 201


def test_an_assistant_name_with_a_trailing_newline_is_refused_at_startup():
    with pytest.raises(ConfigurationError, match="HMS_ASSISTANTS"):
        make_app(HMS_ASSISTANTS={"sales\n": SALES_ID})


def test_a_refused_body_holds_no_slot_and_the_next_good_one_works(hms):
    app, _, _ = make_app()
    client = client_for(app)
    for raw in HAND_PICKED_BODIES.values():
        if accepted(raw, "application/json") is None:
            client.post("/hms/web-calls", data=raw, content_type="application/json")
    assert hms.count == 0 and slots(app) == 0
    assert client.post("/hms/web-calls", json={"assistant": "sales"}).status_code == 201


@pytest.mark.parametrize("path", ["/hms/web-calls", "/hms/webhooks", "/hms/widget.js", "/hms/static/x.js"])
@pytest.mark.parametrize(
    "method", ["GET", "PUT", "PATCH", "DELETE", "HEAD", "TRACE", "CONNECT", "PROPFIND", "BREW"]
)
def test_other_methods_are_a_json_405(hms, path, method):
    app, _, seen = make_app()
    if method in ("GET", "HEAD") and path.endswith(".js"):
        return  # served on GET and HEAD
    response = client_for(app).open(path, method=method, headers={"Origin": SITE})
    assert response.status_code == 405, response.get_data(as_text=True)[:200]
    assert response.headers["Allow"]
    assert method.upper() not in {m.strip() for m in response.headers["Allow"].split(",")}
    if method.upper() != "HEAD":
        assert_error(response, "method_not_allowed")
    assert hms.count == 0 and slots(app) == 0 and seen == []


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE", "TRACE", "PROPFIND", "BREW"])
@pytest.mark.parametrize(
    "path",
    [
        "/hms/",
        "/hms/nope",
        "/hms/web-calls/x",
        "/hms/web-calls/",
        "/hms/static/",
        "/hms/%00",
        "/hms/%0a",
        "/hms/static/a%0Ab",
        "/hms/widget.js%0A",
        "/hms//x",
        "/hms/" + "%ff" * 100,
    ],
)
def test_unknown_paths_under_the_prefix_are_a_json_404(hms, path, method):
    app, _, _ = make_app()
    response = client_for(app).open(path, method=method)
    assert response.status_code in (404, 405), response.get_data(as_text=True)[:200]
    assert_error(response, "not_found", "method_not_allowed")
    assert hms.count == 0


# ------------------------------------------------------------------------------------- POST /webhooks


def signed(body: bytes, secret: str = WEBHOOK_SECRET, ts: int | None = None) -> dict[str, str]:
    ts = int(time.time()) if ts is None else ts
    return {"X-Webhook-Timestamp": str(ts), "X-Webhook-Signature": signature_header(secret, ts, body)}


def envelope_ok(raw: bytes) -> bool:
    """README: parsed only after the signature; not JSON, not an object, or no ``message`` object: 400."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return False
    return isinstance(data, dict) and isinstance(data.get("message"), dict)


TOOL_CALL = st.fixed_dictionaries(
    {},
    optional={
        "id": JSON_VALUES,
        "type": st.just("function"),
        "name": st.one_of(st.sampled_from(["echo", "boom", "missing"]), JSON_VALUES),
        "arguments": st.one_of(JSON_VALUES, st.builds(json.dumps, JSON_VALUES)),
        "function": st.fixed_dictionaries(
            {},
            optional={
                "name": st.one_of(st.sampled_from(["echo", "boom", "missing"]), JSON_VALUES),
                "arguments": st.one_of(JSON_VALUES, st.builds(json.dumps, JSON_VALUES)),
            },
        ),
    },
)
MESSAGES = st.fixed_dictionaries(
    {},
    optional={
        "type": st.one_of(
            st.sampled_from(["status-update", "end-of-call-report", "tool-calls", "Status-Update"]),
            JSON_VALUES,
        ),
        "call": st.one_of(
            st.fixed_dictionaries({}, optional={"id": JSON_VALUES, "status": JSON_VALUES}), JSON_VALUES
        ),
        "assistant": st.one_of(st.fixed_dictionaries({}, optional={"metadata": JSON_VALUES}), JSON_VALUES),
        "status": st.one_of(st.sampled_from(["ended", "ended-with-error", "in-progress"]), JSON_VALUES),
        "error": JSON_VALUES,
        "endedReason": JSON_VALUES,
        "duration_seconds": JSON_VALUES,
        "durationSeconds": JSON_VALUES,
        "transcript": JSON_VALUES,
        "messages": JSON_VALUES,
        "analysis": JSON_VALUES,
        "tool_call_list": st.one_of(st.lists(TOOL_CALL, max_size=3), JSON_VALUES),
        "toolCalls": st.one_of(st.lists(TOOL_CALL, max_size=3), JSON_VALUES),
    },
)
WEBHOOK_BODIES = st.one_of(
    st.binary(max_size=256),
    st.builds(encode, JSON_VALUES, st.booleans()),
    st.builds(encode, st.fixed_dictionaries({"message": st.one_of(MESSAGES, JSON_VALUES)}), st.booleans()),
    st.builds(
        encode,
        st.fixed_dictionaries({"message": MESSAGES}, optional={"extra": JSON_VALUES}),
        st.booleans(),
    ),
)


@BOUNDED
@given(
    raw=WEBHOOK_BODIES,
    signature=st.one_of(
        st.none(),
        HEADER_TEXT,
        st.text("0123456789abcdef", min_size=64, max_size=64).map(lambda h: "sha256=" + h),
    ),
    timestamp=st.one_of(st.none(), HEADER_TEXT, st.integers().map(str), st.just(str(int(time.time())))),
    secret=st.sampled_from([None, "", "whsec_someone_else", WEBHOOK_SECRET[:-1], WEBHOOK_SECRET.upper()]),
)
def test_unverified_deliveries_are_401_and_reach_no_handler(raw, signature, timestamp, secret):
    app, _, seen = make_app()
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers.update(signed(raw, secret))  # signed, but with a secret that is not configured
    if signature is not None:
        headers["X-Webhook-Signature"] = signature
    if timestamp is not None:
        headers["X-Webhook-Timestamp"] = timestamp
    response = app.test_client().post("/hms/webhooks", data=raw, headers=headers)
    assert_error(response, "invalid_signature")
    assert seen == []


@BOUNDED
@given(raw=WEBHOOK_BODIES, secret=st.sampled_from([WEBHOOK_SECRET, OLD_WEBHOOK_SECRET]))
def test_authentic_deliveries_are_dispatched_once_or_refused_as_400(raw, secret):
    app, _, seen = make_app()
    response = app.test_client().post("/hms/webhooks", data=raw, headers=signed(raw, secret))
    if not envelope_ok(raw):
        assert_error(response, "invalid_payload")
        assert seen == []
        return
    assert response.status_code == 200, response.get_data(as_text=True)
    assert_clean(response)
    assert len(seen) == 1
    assert json.dumps(seen[0].raw) == json.dumps(json.loads(raw))
    reply = response.get_json()
    if "results" in reply:
        assert seen[0].type == "tool-calls"
        for result in reply["results"]:
            assert set(result) == {"tool_call_id", "result"}
            assert isinstance(result["tool_call_id"], str) and isinstance(result["result"], str)
            assert "the tool broke" not in result["result"]  # an exception's text stays in the log
    else:
        assert reply == {"ok": True}
    # A replay is acknowledged, not dispatched again.
    again = app.test_client().post("/hms/webhooks", data=raw, headers=signed(raw, secret))
    assert again.status_code == 200 and len(seen) == 1


def test_a_stale_or_future_but_correct_signature_reaches_no_handler():
    app, _, seen = make_app()
    body = encode({"message": {"type": "status-update", "status": "ended"}}, True)
    for ts in (int(time.time()) - 301, int(time.time()) + 301, 0, 10**12 - 1):
        response = app.test_client().post("/hms/webhooks", data=body, headers=signed(body, ts=ts))
        assert_error(response, "invalid_signature")
    assert seen == []


def test_a_valid_signature_over_garbage_is_400():
    app, _, seen = make_app()
    for raw in (b"\x00\xff garbage", b"", b"null", b"[1,2]", b'{"message": 1e400}', b'"\\ud800"'):
        response = app.test_client().post("/hms/webhooks", data=raw, headers=signed(raw))
        assert_error(response, "invalid_payload")
    assert seen == []


class Endless(io.RawIOBase):
    """A request body that never ends (or ends after ``size`` bytes), serving at most ``step`` bytes a read
    the way a socket does, and counting what was taken from it."""

    def __init__(self, size: int | None = None, data: bytes = b"", step: int = 65536) -> None:
        self.size = size
        self.data = data
        self.step = step
        self.served = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        left = len(buffer) if self.size is None else min(len(buffer), self.size - self.served)
        n = max(0, min(left, self.step))
        if self.data:
            buffer[:n] = self.data[self.served : self.served + n]
        else:
            buffer[:n] = b"x" * n
        self.served += n
        return n


def post_stream(
    app: Flask, path: str, stream: Endless, headers: dict[str, str], content_length: int | None = None
) -> Response:
    """POST a body from ``stream`` as a WSGI server would hand it over: with the Content-Length the client
    declared (even a false one), or chunked (no Content-Length, the server terminates the input)."""
    environ = EnvironBuilder(path=path, method="POST", headers=headers).get_environ()
    environ["wsgi.input"] = stream
    environ.pop("CONTENT_LENGTH", None)
    if content_length is None:
        environ["HTTP_TRANSFER_ENCODING"] = "chunked"
        environ["wsgi.input_terminated"] = True
    else:
        environ["CONTENT_LENGTH"] = str(content_length)
    app_iter, status, response_headers = run_wsgi_app(app.wsgi_app, environ, buffered=True)
    return app.response_class(b"".join(app_iter), status=status, headers=response_headers)


def test_an_endless_chunked_delivery_is_413_after_reading_just_past_the_limit():
    app, _, seen = make_app(HMS_WEBHOOK_MAX_BYTES=4096)
    stream = Endless()
    response = post_stream(app, "/hms/webhooks", stream, signed(b"whatever"))
    assert_error(response, "payload_too_large")
    assert stream.served <= 4097
    assert seen == []


def test_a_declared_length_over_the_limit_is_413_unread():
    app, _, seen = make_app(HMS_WEBHOOK_MAX_BYTES=4096)
    stream = Endless(size=50)
    response = post_stream(app, "/hms/webhooks", stream, signed(b"x" * 50), content_length=10**12)
    assert_error(response, "payload_too_large")
    assert stream.served == 0
    assert seen == []


def test_a_declared_length_under_the_truth_reads_only_what_was_declared():
    app, _, seen = make_app(HMS_WEBHOOK_MAX_BYTES=4096)
    body = encode({"message": {"type": "status-update", "status": "ended"}}, True)
    stream = Endless(data=body + b"x" * 10_000, size=len(body) + 10_000)
    # Signed over what was declared: the rest is not part of the request.
    response = post_stream(app, "/hms/webhooks", stream, signed(body), content_length=len(body))
    assert response.status_code == 200
    assert stream.served == len(body)
    assert len(seen) == 1

    # Signed over all of it: the part past the declared length was never read, so it cannot verify.
    stream = Endless(data=body + b"x" * 10_000, size=len(body) + 10_000)
    whole = body + b"x" * 10_000
    response = post_stream(app, "/hms/webhooks", stream, signed(whole), content_length=len(body))
    assert_error(response, "invalid_signature")
    assert len(seen) == 1


def test_a_body_shorter_than_its_declared_length_is_refused():
    app, _, seen = make_app()
    body = encode({"message": {"type": "status-update", "status": "ended"}}, True)
    stream = Endless(data=body, size=len(body))
    response = post_stream(app, "/hms/webhooks", stream, signed(body), content_length=len(body) + 100)
    assert_error(response, "invalid_request", "invalid_signature")
    assert seen == []


def test_a_delivery_arriving_in_small_reads_is_read_whole():
    """A socket, or a WSGI server's chunked input, may hand the body over a few bytes per read."""
    app, _, seen = make_app(HMS_WEBHOOK_MAX_BYTES=4096)
    body = encode({"message": {"type": "end-of-call-report", "summary": "s" * 2000}}, True)
    for content_length in (None, len(body)):
        stream = Endless(data=body, size=len(body), step=100)
        response = post_stream(app, "/hms/webhooks", stream, signed(body), content_length=content_length)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert seen[-1].summary == "s" * 2000
    assert len(seen) == 1  # the second was the same delivery: acknowledged, not dispatched again

    big = encode({"message": {"type": "end-of-call-report", "summary": "s" * 5000}}, True)
    stream = Endless(data=big, size=len(big), step=100)
    assert_error(post_stream(app, "/hms/webhooks", stream, signed(big)), "payload_too_large")
    assert stream.served <= 4097


def test_a_chunked_delivery_over_the_apps_max_content_length_is_413():
    # The app's own MAX_CONTENT_LENGTH is lower than the webhook limit: Flask's limit wins, and the body is
    # refused rather than cut off at that length and taken for the whole delivery.
    app, _, seen = make_app(MAX_CONTENT_LENGTH=2048)
    body = encode({"message": {"type": "end-of-call-report", "summary": "s" * 3000}}, True)
    stream = Endless(data=body, size=len(body))
    assert_error(post_stream(app, "/hms/webhooks", stream, signed(body)), "payload_too_large")
    assert stream.served <= 2048
    prefix = body[:2048]
    stream = Endless(data=body, size=len(body))
    assert_error(post_stream(app, "/hms/webhooks", stream, signed(prefix)), "payload_too_large")
    assert seen == []


def test_a_chunked_web_call_over_the_apps_max_content_length_is_413(hms):
    app, _, _ = make_app(MAX_CONTENT_LENGTH=1024)
    # Valid JSON for its first 1024 bytes: cutting it there and going on would start a call.
    body = b'{"assistant": "sales"}' + b" " * 4000
    stream = Endless(data=body, size=len(body))
    response = post_stream(app, "/hms/web-calls", stream, {"Content-Type": "application/json"})
    assert_error(response, "payload_too_large", "invalid_request")
    assert hms.count == 0 and slots(app) == 0


# ------------------------------------------------------------------------------------------------ secrets


def echo_authorization(request: Any) -> tuple[int, dict, str]:
    auth = request.headers["Authorization"]
    return (
        401,
        {"WWW-Authenticate": auth},
        json.dumps({"detail": f"rejected header {auth!r}", "headers": auth}),
    )


UPSTREAM_FAILURES = {
    "401 echoing the key": (401, {}, json.dumps({"detail": f"Invalid API key: {API_KEY}"})),
    "401 echoing the Authorization header": echo_authorization,
    "402": (402, {}, json.dumps({"detail": f"Insufficient credits for key {API_KEY}"})),
    "403 key as the error code": (
        403,
        {},
        json.dumps({"error": {"code": API_KEY, "message": f"Bearer {API_KEY} may not use this assistant"}}),
    ),
    "403 key as a plain error": (403, {}, json.dumps({"error": API_KEY})),
    "422 problems listing the key": (
        422,
        {},
        json.dumps(
            {"detail": [{"loc": ["header", "authorization"], "msg": f"bad {API_KEY}", "input": API_KEY}]}
        ),
    ),
    "429": (429, {"Retry-After": "7"}, json.dumps({"detail": f"Maximum 3 concurrent web calls ({API_KEY})"})),
    "500 HTML page": (
        500,
        {"Content-Type": "text/html"},
        f"<html><pre>Authorization: Bearer {API_KEY}</pre>",
    ),
    "502": (502, {}, f"upstream said: Bearer {API_KEY}"),
    "503": (503, {}, json.dumps({"message": API_KEY})),
    "504": (504, {}, ""),
    "301 to a URL with the key": (301, {"Location": f"https://x.example/?key={API_KEY}"}, ""),
    "a huge body full of the key": (500, {}, (API_KEY + " ") * 20_000),
    "200 without a token": (200, {}, json.dumps({"call_id": "c", "server_url": "wss://x", "debug": API_KEY})),
    "200 with the key as the server URL": (
        200,
        {},
        json.dumps({"call_id": "c", "token": "t", "server_url": API_KEY}),
    ),
    "200 not JSON": (200, {}, f"OK {API_KEY}"),
    "read timeout": requests.exceptions.ReadTimeout(f"Authorization: Bearer {API_KEY} timed out"),
    "connect timeout": requests.exceptions.ConnectTimeout(f"headers={{'Authorization': 'Bearer {API_KEY}'}}"),
    "connection error": requests.exceptions.ConnectionError(f"reset while sending Bearer {API_KEY}"),
    "chunked encoding error": requests.exceptions.ChunkedEncodingError(f"Bearer {API_KEY}"),
    "some other requests error": requests.exceptions.InvalidHeader(f"Authorization: Bearer {API_KEY}"),
}


@pytest.mark.parametrize("name", list(UPSTREAM_FAILURES))
def test_upstream_failures_leak_no_secret(hms, caplog, capsys, name):
    caplog.set_level(logging.DEBUG)
    app, _, _ = make_app()
    hms.answer = UPSTREAM_FAILURES[name]
    response = client_for(app).post("/hms/web-calls", json={"assistant": "sales"}, headers={"Origin": SITE})
    assert_error(response, "misconfigured", "unavailable", "busy", "upstream_error", "upstream_timeout")
    assert hms.count == 1
    assert slots(app) == 0  # the failed attempt gave its slot back
    assert_no_secret_logged(caplog.records)
    out, err = capsys.readouterr()
    assert secrets_in(out + err) == []


@pytest.mark.parametrize("name", list(UPSTREAM_FAILURES))
def test_the_clients_exceptions_carry_no_key(hms, name):
    hms.answer = UPSTREAM_FAILURES[name]
    client = HMSClient(API_KEY)
    assert API_KEY not in repr(client)
    with pytest.raises(HMSAPIError) as raised:
        client.create_web_call(assistant_id=ASSISTANT_ID)
    exc = raised.value
    texts = [str(exc), repr(exc), "".join(traceback.format_exception(exc)), repr(vars(exc))]
    texts += [repr(arg) for arg in exc.args]
    for text in texts:
        assert API_KEY not in text, text[:300]


def test_webhook_and_widget_error_paths_leak_no_secret(hms, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    app, webcall, _ = make_app(HMS_WEBHOOK_MAX_BYTES=2048)

    @webcall.on("status-update")
    def broken(event: Any) -> None:
        raise RuntimeError("handler failed")

    client = client_for(app)
    good = encode({"message": {"type": "status-update", "status": "in-progress"}}, True)
    tools = encode({"message": {"type": "tool-calls", "tool_call_list": [{"id": "1", "name": "boom"}]}}, True)
    responses_ = [
        client.post("/hms/webhooks", data=good),
        client.post("/hms/webhooks", data=good, headers=signed(good, "wrong")),
        client.post("/hms/webhooks", data=good, headers=signed(good, ts=int(time.time()) - 3600)),
        client.post(
            "/hms/webhooks", data=good, headers={**signed(good), "X-Webhook-Signature": WEBHOOK_SECRET}
        ),
        client.post("/hms/webhooks", data=b"junk", headers=signed(b"junk")),
        client.post("/hms/webhooks", data=b"x" * 5000, headers=signed(b"x" * 5000)),
        client.post("/hms/webhooks", data=good, headers=signed(good)),  # the handler raises: 500
        client.post("/hms/webhooks", data=tools, headers=signed(tools)),
        client.get("/hms/webhooks"),
        client.get("/hms/widget.js"),
        client.get("/hms/static/..%2f_config.py"),
        client.get("/hms/static/nope.js"),
        client.post("/hms/web-calls", data=b"junk", content_type="application/json"),
        client.post("/hms/web-calls", headers={"Origin": "https://evil.example"}),
    ]
    assert responses_[6].status_code == 500 and responses_[6].get_json()["error"]["code"] == "handler_error"
    for response in responses_:
        assert_clean(response)
    assert_no_secret_logged(caplog.records)
    out, err = capsys.readouterr()
    assert secrets_in(out + err) == []


class EchoingHMS(BaseHTTPRequestHandler):
    """A real HTTP server on 127.0.0.1 playing a hostile HMS: it echoes the Authorization header in its
    reason phrase, a header and its body, or never answers."""

    def do_POST(self) -> None:  # noqa: N802 - the name http.server dispatches to
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.server.mode == "hang":  # type: ignore[attr-defined]
            self.server.release.wait(10)  # type: ignore[attr-defined]
            return
        auth = self.headers.get("Authorization", "")
        body = json.dumps({"detail": f"Unknown key in {auth}", "echo": dict(self.headers)}).encode()
        if self.server.mode == "reason only":  # type: ignore[attr-defined]
            body = b""  # nothing but the reason phrase to say why
        self.send_response(401, f"Unauthorized {auth}")
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Echo", auth)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def echoing_hms() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), EchoingHMS)
    server.daemon_threads = True
    server.mode = "echo"  # type: ignore[attr-defined]
    server.release = threading.Event()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.release.set()  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("mode", ["echo", "reason only", "hang", "closed port"])
def test_over_a_real_connection_no_library_logs_the_key(echoing_hms, caplog, capsys, mode):
    """requests and urllib3 log at DEBUG too: with a real socket (loopback), none of it carries the key."""
    caplog.set_level(logging.DEBUG)
    for name in ("urllib3", "requests", "flask_hms_webcall"):
        caplog.set_level(logging.DEBUG, logger=name)
    port = free_port() if mode == "closed port" else echoing_hms.server_address[1]
    echoing_hms.mode = mode  # type: ignore[attr-defined]
    app, _, _ = make_app(HMS_API_BASE_URL=f"http://127.0.0.1:{port}", HMS_REQUEST_TIMEOUT=0.5)
    response = client_for(app).post("/hms/web-calls", json={})
    expected = {
        "echo": "misconfigured",
        "reason only": "misconfigured",
        "hang": "upstream_timeout",
        "closed port": "upstream_error",
    }[mode]
    assert_error(response, expected)
    assert slots(app) == 0
    if mode != "closed port":
        assert any(record.name.startswith("urllib3") for record in caplog.records)
    # The echo did reach the log (so the check below is not vacuous), without the key.
    echoed = {"echo": "Unknown key in Bearer", "reason only": "Unauthorized Bearer"}.get(mode)
    if echoed is not None:
        assert echoed in caplog.text
    assert_no_secret_logged(caplog.records)
    out, err = capsys.readouterr()
    assert secrets_in(out + err) == []


# ---------------------------------------------------------------------------------------- widget files

TRAVERSALS = [
    "..%2f_config.py",
    "%2e%2e%2f_config.py",
    "%2e%2e/_config.py",
    "..%252f_config.py",
    "..%5c_config.py",
    "..%5c..%5c_config.py",
    "%5c..%5c_config.py",
    "..\\_config.py",
    "/etc/passwd",
    "%2fetc%2fpasswd",
    "//etc/passwd",
    "%2f%2fetc%2fpasswd",
    "C:%5cWindows%5cwin.ini",
    "..",
    "..%2f",
    "./..%2f..%2f..%2fetc/passwd",
    "widget.js%00.png",
    "%00",
    "~",
    "~root/.bashrc",
    "%c0%ae%c0%ae%2f_config.py",
    "..%c0%af_config.py",
    "%uff0e%uff0e%u2215_config.py",
    "a" * 5000,
]


@pytest.fixture
def static_dir(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    from flask_hms_webcall import _views

    static = tmp_path / "pkg" / "static"
    static.mkdir(parents=True)
    (static / "widget.js").write_text("/* loader */")
    (static / "call-DRT3XTHH.js").write_text("/* chunk */")
    (tmp_path / "pkg" / "_config.py").write_text("SECRET_SOURCE = 1")
    (tmp_path / "outside.txt").write_text("SECRET_SOURCE = 2")
    monkeypatch.setattr(_views, "STATIC_DIR", static)
    return static


@pytest.mark.parametrize("path", TRAVERSALS)
def test_path_traversal_on_static_files_is_a_json_404(static_dir, path):
    app, _, _ = make_app()
    for method in ("GET", "HEAD"):
        response = app.test_client().open(f"/hms/static/{path}", method=method)
        assert response.status_code == 404, (method, response.status_code)
        if method == "GET":
            assert_error(response, "not_found")
            text = response.get_data(as_text=True)
            assert "SECRET_SOURCE" not in text
            assert str(static_dir) not in text and "flask_hms_webcall" not in text


@settings(BOUNDED, max_examples=100)
@given(name=st.one_of(st.text(CHARS.filter(lambda c: c != "\x00"), max_size=40), st.sampled_from(TRAVERSALS)))
def test_random_static_names_serve_only_files_inside_the_static_folder(static_dir, name):
    app, _, _ = make_app()
    response = app.test_client().get("/hms/static/" + quote(name.encode("utf-8", "surrogatepass"), safe="/"))
    if response.status_code == 200:
        assert response.get_data() in (b"/* loader */", b"/* chunk */")
        return
    assert response.status_code in (404, 405), response.status_code
    assert_error(response, "not_found", "method_not_allowed")
