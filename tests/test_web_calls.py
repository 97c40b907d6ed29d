"""POST {prefix}/web-calls: the browser contract, against a stubbed HMS (`responses`).

Every row of the error table, the origin and identity rules, hostile bodies (refused with 400 and nothing
sent upstream), metadata.user_id set by the server only, the rate limit, per-user and org concurrency and
how slots are freed again (webhook, expiry).
"""

from __future__ import annotations

import json
import logging

import pytest
import requests
from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from flask_hms_webcall import BrowserError, HMSWebCall
from flask_hms_webcall.store import MemoryCallStore
from tests.support import (
    API_KEY,
    ASSISTANT_ID,
    RESPONSE_FIELDS,
    SALES_ID,
    SECRET,
    assert_error,
    client_for,
    make_app,
    start,
    webhook,
)

# ------------------------------------------------------------------------------------------- success


def test_anonymous_call_uses_reference_mode(hms):
    app, _ = make_app()
    response = start(client_for(app))
    assert response.status_code == 201
    assert set(response.json) == RESPONSE_FIELDS | {"feedback_token"}  # anonymous: the token to rate it
    assert response.json["call_id"] == "call-1"
    assert response.json["token"] == "jwt-1"
    assert response.json["server_url"] == "wss://rtc.hmsovereign.com"
    assert response.json["expires_in"] == 300
    assert response.json["max_duration"] == 300
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers.getlist("X-Content-Type-Options") == ["nosniff"]
    assert hms.bodies == [{"assistant_id": ASSISTANT_ID}]
    assert hms.mock.calls[0].request.headers["Authorization"] == f"Bearer {API_KEY}"


def test_empty_body_without_content_type_is_all_defaults(hms):
    app, _ = make_app()
    assert start(client_for(app), data=b"").status_code == 201


def test_signed_in_caller_is_in_metadata_user_id(hms):
    app, _ = make_app()
    response = start(client_for(app, "alice"), {"context": {"page": "/pricing"}})
    assert response.status_code == 201
    assert hms.bodies == [
        {
            "assistant_id": ASSISTANT_ID,
            "assistant_override": {"metadata": {"user_id": "alice", "context": {"page": "/pricing"}}},
        }
    ]


def test_user_id_cannot_be_spoofed_through_context_or_hooks(hms):
    app, webcall = make_app()

    @webcall.before_create
    def meddle(call):
        call.metadata["user_id"] = "mallory-from-a-hook"
        call.override["metadata"] = {"user_id": "mallory-in-override", "UserID": "kept"}

    start(client_for(app, "alice"), {"context": {"user_id": "mallory"}})
    metadata = hms.bodies[0]["assistant_override"]["metadata"]
    assert metadata["user_id"] == "alice"
    assert metadata["context"] == {"user_id": "mallory"}
    assert metadata["UserID"] == "kept"

    # Anonymous: there is no user_id at all, whatever the browser or a hook says.
    start(client_for(app, ip="198.51.100.1"), {"context": {"user_id": "mallory"}})
    assert "user_id" not in hms.bodies[1]["assistant_override"]["metadata"]


def test_a_hook_clearing_override_metadata_still_sends_user_id_and_context(hms):
    app, webcall = make_app()

    @webcall.before_create
    def clear(call):
        call.override["metadata"] = None

    assert start(client_for(app, "alice"), {"context": {"page": "/pricing"}}).status_code == 201
    assert hms.bodies[0]["assistant_override"] == {
        "metadata": {"context": {"page": "/pricing"}, "user_id": "alice"}
    }


def test_before_create_makes_a_hybrid_call(hms):
    app, webcall = make_app()
    seen = []

    @webcall.before_create
    def prepare(call):
        seen.append((call.identity, call.assistant, call.assistant_id, dict(call.context)))
        call.override["first_message"] = "Hi!"
        call.metadata["plan"] = "pro"

    start(client_for(app, "bob"), {"context": {"order": "1042"}})
    assert seen == [("bob", None, ASSISTANT_ID, {"order": "1042"})]
    assert hms.bodies == [
        {
            "assistant_id": ASSISTANT_ID,
            "assistant_override": {
                "first_message": "Hi!",
                "metadata": {"plan": "pro", "context": {"order": "1042"}, "user_id": "bob"},
            },
        }
    ]


def test_named_assistant(hms):
    app, _ = make_app(HMS_ASSISTANTS={"sales": SALES_ID})
    assert start(client_for(app), {"assistant": "sales"}).status_code == 201
    assert hms.bodies[0] == {"assistant_id": SALES_ID}


def test_unknown_assistant_name(hms):
    app, _ = make_app(HMS_ASSISTANTS={"sales": SALES_ID})
    assert_error(start(client_for(app), {"assistant": "support"}), 400, "invalid_request")
    assert hms.count == 0


def test_assistant_is_required_without_a_default(hms):
    app, _ = make_app(HMS_ASSISTANT_ID=None, HMS_ASSISTANTS={"sales": SALES_ID})
    assert_error(start(client_for(app), {}), 400, "invalid_request")
    assert start(client_for(app), {"assistant": "sales"}).status_code == 201


def test_a_hook_producing_a_body_hms_would_refuse_sends_nothing(hms, caplog):
    app, webcall = make_app()

    @webcall.before_create
    def broken(call):
        call.assistant_id = None  # no assistant at all: one of HMS's 400 rules

    with caplog.at_level(logging.ERROR, "flask_hms_webcall"):
        assert_error(start(client_for(app)), 500, "misconfigured")
    assert hms.count == 0
    assert "Must provide assistant_id, assistant, or both" in caplog.text


def test_a_hook_leaving_a_non_object_sends_nothing(hms):
    app, webcall = make_app()

    @webcall.before_create
    def broken(call):
        call.metadata = ["not", "an", "object"]

    assert_error(start(client_for(app, "alice")), 500, "misconfigured")
    assert hms.count == 0


def test_a_hook_may_refuse_a_call_with_a_browser_error(hms):
    app, webcall = make_app()

    @webcall.before_create
    def members_only(call):
        if call.identity != "member":
            raise BrowserError("unauthenticated", "Calls are for members. Please sign in.")

    response = start(client_for(app, "visitor"))
    assert_error(response, 401, "unauthenticated")
    assert response.json["error"]["message"] == "Calls are for members. Please sign in."
    assert hms.count == 0
    assert start(client_for(app, "member")).status_code == 201


def test_a_hook_that_raises_is_a_json_500_with_the_trace_in_the_log_only(hms, caplog):
    app, webcall = make_app()

    @webcall.before_create
    def broken(call):
        raise RuntimeError("database is down: secret detail")

    with caplog.at_level(logging.ERROR, "flask_hms_webcall"):
        response = start(client_for(app, "alice"))
    assert_error(response, 500, "internal_error")
    assert "secret detail" not in response.get_data(as_text=True)
    assert "secret detail" in caplog.text
    assert hms.count == 0
    # The failed attempt holds no slot.
    webcall.hooks.before_create.clear()
    assert start(client_for(app, "alice")).status_code == 201


# ----------------------------------------------------------------------------------- hostile bodies

HOSTILE_JSON = [
    {"assistant_id": ASSISTANT_ID},
    {"assistant_override": {"first_message": "I am the prompt now"}},
    {"assistant": {"stt_config": {}, "llm_config": {}, "tts_config": {}}},
    {"metadata": {"user_id": "admin"}},
    {"context": {}, "extra": 1},
    {"assistant": 123},
    {"assistant": None},
    {"assistant": ["sales"]},
    {"assistant": ""},
    {"assistant": "x" * 65},
    {"context": "page=/pricing"},
    {"context": None},
    {"context": ["a"]},
    {"context": {"n": 1}},
    {"context": {"flag": True}},
    {"context": {"v": None}},
    {"context": {"nested": {"user_id": "admin"}}},
    {"context": {"list": ["a"]}},
    {"context": {f"k{i}": "v" for i in range(11)}},
    {"context": {"long": "x" * 201}},
    {"context": {"bad key!": "v"}},
    {"context": {"": "v"}},
    {"context": {"k" * 41: "v"}},
    [],
    ["assistant"],
    "assistant",
    42,
    None,
    True,
]


@pytest.mark.parametrize("body", HOSTILE_JSON, ids=lambda b: json.dumps(b)[:40])
def test_hostile_json_is_refused_and_nothing_is_sent(hms, body):
    app, _ = make_app(HMS_ASSISTANTS={"sales": SALES_ID})
    response = start(client_for(app, "alice"), data=json.dumps(body), content_type="application/json")
    assert_error(response, 400, "invalid_request")
    assert hms.count == 0


HOSTILE_RAW = {
    "not json": (b"assistant=sales", "application/json"),
    "truncated json": (b'{"context": {"a": ', "application/json"),
    "invalid utf-8": (b'{"assistant": "\xff\xfe"}', "application/json"),
    "NaN": (b'{"context": {"a": NaN}}', "application/json"),
    "deep nesting": (b'{"context": ' + b"[" * 3000 + b"]" * 3000 + b"}", "application/json"),
    "huge integer": (b'{"context": {"a": ' + b"9" * 5000 + b"}}", "application/json"),
    "wrong content type": (b'{"assistant": "sales"}', "text/plain"),
    "form content type": (b'{"assistant": "sales"}', "application/x-www-form-urlencoded"),
    "oversized": (json.dumps({"context": {"a": "x" * 20000}}).encode(), "application/json"),
    "oversized whitespace": (b"{" + b" " * 9000 + b"}", "application/json"),
    "duplicate keys": (b'{"assistant": "sales", "assistant": {"x": 1}}', "application/json"),
}


@pytest.mark.parametrize("name", list(HOSTILE_RAW))
def test_hostile_raw_bodies_are_refused_and_nothing_is_sent(hms, name):
    data, content_type = HOSTILE_RAW[name]
    app, _ = make_app(HMS_ASSISTANTS={"sales": SALES_ID})
    response = start(client_for(app, "alice"), data=data, content_type=content_type)
    assert_error(response, 400, "invalid_request")
    assert hms.count == 0


def test_error_messages_do_not_echo_long_input(hms):
    app, _ = make_app()
    response = start(client_for(app), {"x" * 1000: 1})
    assert_error(response, 400, "invalid_request")
    assert "x" * 100 not in response.json["error"]["message"]


# ------------------------------------------------------------------------------- upstream error table


@pytest.mark.parametrize(
    ("upstream_status", "detail", "status", "code"),
    [
        (400, "Must provide assistant_id, assistant, or both", 500, "misconfigured"),
        (401, "Invalid API key", 500, "misconfigured"),
        (402, "Insufficient credits to start web call", 503, "unavailable"),
        (403, "Assistant not found or does not belong to this organization", 500, "misconfigured"),
        (429, "Maximum 3 concurrent web calls per organization", 503, "busy"),
        (500, "Failed to create web call session: db down", 502, "upstream_error"),
        (502, "Bad gateway", 502, "upstream_error"),
        (503, "Service unavailable", 502, "upstream_error"),
    ],
)
def test_upstream_failures_map_to_the_error_table(hms, caplog, upstream_status, detail, status, code):
    app, _ = make_app()
    hms.fail(upstream_status, {"detail": detail})
    with caplog.at_level(logging.WARNING, "flask_hms_webcall"):
        response = start(client_for(app, "alice"))
    assert_error(response, status, code)
    # The visitor is not told about billing, keys or HMS's words; the log is.
    assert detail not in response.get_data(as_text=True)
    assert detail in caplog.text
    assert API_KEY not in caplog.text
    if code == "busy":
        assert 1 <= int(response.headers["Retry-After"]) <= 300
    # The failed attempt freed its slot: the same user may try again at once.
    hms.answer = None
    assert start(client_for(app, "alice")).status_code == 201


def test_upstream_error_in_the_other_body_shape(hms, caplog):
    app, _ = make_app()
    hms.fail(401, {"error": {"code": "unauthorized", "message": "Invalid API key"}})
    with caplog.at_level(logging.ERROR, "flask_hms_webcall"):
        assert_error(start(client_for(app)), 500, "misconfigured")
    assert "Invalid API key" in caplog.text


def test_upstream_429_retry_after_is_passed_on(hms):
    app, _ = make_app()
    hms.fail(429, {"detail": "Maximum 3 concurrent web calls per organization"}, {"Retry-After": "17"})
    response = start(client_for(app))
    assert_error(response, 503, "busy")
    assert response.headers["Retry-After"] == "17"


@pytest.mark.parametrize(
    ("raised", "status", "code"),
    [
        (requests.exceptions.ReadTimeout("timed out"), 504, "upstream_timeout"),
        (requests.exceptions.ConnectTimeout("timed out"), 504, "upstream_timeout"),
        (requests.exceptions.ConnectionError("refused"), 502, "upstream_error"),
    ],
)
def test_upstream_timeouts_and_network_errors(hms, raised, status, code):
    app, _ = make_app()
    hms.answer = raised
    assert_error(start(client_for(app, "alice")), status, code)
    hms.answer = None
    assert start(client_for(app, "alice")).status_code == 201


def test_an_unusable_upstream_success_is_an_upstream_error(hms):
    app, _ = make_app()
    hms.fail(200, {"success": True, "call_id": "c1", "server_url": "wss://x"})  # no token
    assert_error(start(client_for(app)), 502, "upstream_error")


def test_the_key_echoed_by_upstream_stays_out_of_responses_and_logs(hms, caplog):
    app, _ = make_app()
    hms.fail(401, {"detail": f"Invalid API key: {API_KEY}"})
    with caplog.at_level(logging.DEBUG):
        response = start(client_for(app))
    assert_error(response, 500, "misconfigured")
    assert API_KEY not in caplog.text
    assert "Invalid API key" in caplog.text


# ------------------------------------------------------------------------------------------- origins


def test_no_origin_header_is_not_refused(hms):
    app, _ = make_app()
    assert start(client_for(app)).status_code == 201


def test_same_origin_is_allowed_by_default(hms):
    app, _ = make_app()
    assert start(client_for(app), headers={"Origin": "http://localhost"}).status_code == 201


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "http://localhost:8080", "https://localhost", "null", "garbage", ""]
)
def test_foreign_origins_are_refused_and_nothing_is_sent(hms, origin):
    app, _ = make_app()
    response = start(client_for(app, "alice"), headers={"Origin": origin})
    assert_error(response, 403, "forbidden_origin")
    assert "Access-Control-Allow-Origin" not in response.headers
    assert hms.count == 0


def test_configured_origins(hms):
    app, _ = make_app(HMS_ALLOWED_ORIGINS=["https://shop.example.com"])
    client = client_for(app, "alice")
    response = start(client, headers={"Origin": "https://shop.example.com"})
    assert response.status_code == 201
    assert response.headers["Access-Control-Allow-Origin"] == "https://shop.example.com"
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert "Origin" in response.headers["Vary"]
    # Without this, a widget on the other origin cannot read how long to wait after a 429 or 503.
    assert response.headers["Access-Control-Expose-Headers"] == "Retry-After"
    # The list is the whole list: the app's own origin must be in it to be allowed.
    assert_error(start(client, headers={"Origin": "http://localhost"}), 403, "forbidden_origin")
    assert_error(start(client, headers={"Origin": "https://evil.example"}), 403, "forbidden_origin")
    assert hms.count == 1


def test_cors_preflight(hms):
    app, _ = make_app(HMS_ALLOWED_ORIGINS=["https://shop.example.com"])
    client = client_for(app)
    allowed = client.options(
        "/hms/web-calls",
        headers={
            "Origin": "https://shop.example.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, x-csrf-token",
        },
    )
    assert allowed.status_code == 204
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://shop.example.com"
    assert "POST" in allowed.headers["Access-Control-Allow-Methods"]
    assert "x-csrf-token" in allowed.headers["Access-Control-Allow-Headers"]
    refused = client.options(
        "/hms/web-calls", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert_error(refused, 403, "forbidden_origin")
    assert "Access-Control-Allow-Origin" not in refused.headers
    assert hms.count == 0


# ------------------------------------------------------------------------------ identity and keying


def test_required_identity(hms):
    app, _ = make_app(HMS_REQUIRE_IDENTITY=True)
    assert_error(start(client_for(app)), 401, "unauthenticated")
    assert hms.count == 0
    assert start(client_for(app, "alice")).status_code == 201


def test_required_identity_without_a_loader_refuses_everyone(hms):
    app, _ = make_app(identity=False, HMS_REQUIRE_IDENTITY=True)
    assert_error(start(client_for(app, "alice")), 401, "unauthenticated")
    assert hms.count == 0


def test_required_identity_refuses_anonymous_visitors_on_every_browser_route(hms):
    app, _ = make_app(HMS_REQUIRE_IDENTITY=True, HMS_CHALLENGE="altcha", HMS_CHALLENGE_FOR="everyone")
    visitor = client_for(app)
    assert_error(visitor.get("/hms/challenge"), 401, "unauthenticated")
    assert_error(visitor.post("/hms/web-calls/c1/feedback", json={"rating": "up"}), 401, "unauthenticated")
    assert_error(visitor.get("/hms/web-calls/c1/actions"), 401, "unauthenticated")
    assert client_for(app, "alice").get("/hms/challenge").json["required"] is True


def test_anonymous_callers_are_keyed_by_ip(hms):
    app, _ = make_app()
    assert start(client_for(app, ip="198.51.100.1")).status_code == 201
    assert_error(start(client_for(app, ip="198.51.100.1")), 429, "too_many_calls")
    assert start(client_for(app, ip="198.51.100.2")).status_code == 201


def test_signed_in_callers_are_keyed_by_identity_not_ip(hms):
    app, _ = make_app()
    assert start(client_for(app, "alice", ip="198.51.100.1")).status_code == 201
    assert start(client_for(app, "bob", ip="198.51.100.1")).status_code == 201
    # Alice from another address is still Alice.
    assert_error(start(client_for(app, "alice", ip="192.0.2.9")), 429, "too_many_calls")


def test_identity_loader_returning_a_number(hms):
    app, webcall = make_app(identity=False)

    @webcall.identity_loader
    def who():
        return 42

    start(client_for(app))
    assert hms.bodies[0]["assistant_override"]["metadata"]["user_id"] == "42"


# ------------------------------------------------------------------------------------------ limits


def test_rate_limit_with_retry_after(hms):
    app, _ = make_app(HMS_RATE_LIMIT="2 per minute", HMS_MAX_CALLS_PER_USER=10)
    alice = client_for(app, "alice")
    assert [start(alice).status_code for _ in range(2)] == [201, 201]
    response = start(alice)
    assert_error(response, 429, "rate_limited")
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert hms.count == 2
    # Bob has his own budget.
    assert start(client_for(app, "bob")).status_code == 201


def test_rate_limit_counts_anonymous_callers_by_ip(hms):
    app, _ = make_app(HMS_RATE_LIMIT="1 per minute", HMS_MAX_CALLS_PER_USER=10)
    assert start(client_for(app, ip="198.51.100.1")).status_code == 201
    assert_error(start(client_for(app, ip="198.51.100.1")), 429, "rate_limited")
    assert start(client_for(app, ip="198.51.100.2")).status_code == 201


def test_refused_origins_do_not_use_up_the_rate_limit(hms):
    app, _ = make_app(HMS_RATE_LIMIT="1 per minute")
    alice = client_for(app, "alice")
    for _ in range(3):
        assert_error(start(alice, headers={"Origin": "https://evil.example"}), 403, "forbidden_origin")
    assert start(alice).status_code == 201


def test_per_user_concurrency(hms):
    app, _ = make_app(HMS_MAX_CALLS_PER_USER=2)
    alice = client_for(app, "alice")
    assert [start(alice).status_code for _ in range(2)] == [201, 201]
    assert_error(start(alice), 429, "too_many_calls")
    assert hms.count == 2


def test_org_concurrency_is_busy_without_calling_upstream(hms):
    app, _ = make_app(HMS_MAX_CONCURRENT_CALLS=2)
    assert start(client_for(app, "a")).status_code == 201
    assert start(client_for(app, "b")).status_code == 201
    response = start(client_for(app, "c"))
    assert_error(response, 503, "busy")
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert hms.count == 2


@pytest.mark.parametrize(
    "report",
    [
        {"type": "end-of-call-report", "endedReason": "user_hangup", "durationSeconds": 47},
        {"type": "end-of-call-report", "end_reason": "user_hangup", "duration_seconds": 47},
        {"type": "status-update", "status": "ended"},
        {"type": "status-update", "status": "ended-with-error", "error": "STT connection failed"},
    ],
    ids=["report-camel", "report-snake", "status-ended", "status-ended-with-error"],
)
def test_a_webhook_saying_the_call_ended_frees_the_slot(hms, report):
    app, _ = make_app(HMS_MAX_CONCURRENT_CALLS=1)
    call_id = start(client_for(app, "alice")).json["call_id"]
    assert_error(start(client_for(app, "alice")), 429, "too_many_calls")
    assert_error(start(client_for(app, "bob")), 503, "busy")
    # A status update that does not end the call frees nothing.
    in_progress = {"message": {"type": "status-update", "status": "in-progress", "call": {"id": call_id}}}
    assert webhook(app, in_progress).status_code == 200
    assert_error(start(client_for(app, "bob")), 503, "busy")

    message = {**report, "call": {"id": call_id, "type": "web_call", "status": "ended"}}
    assert webhook(app, {"message": message}).status_code == 200
    assert start(client_for(app, "bob")).status_code == 201


def test_an_unsigned_webhook_frees_nothing(hms):
    app, _ = make_app(HMS_MAX_CONCURRENT_CALLS=1)
    call_id = start(client_for(app, "alice")).json["call_id"]
    body = {"message": {"type": "end-of-call-report", "call": {"id": call_id}}}
    assert app.test_client().post("/hms/webhooks", json=body).status_code == 401
    assert_error(start(client_for(app, "bob")), 503, "busy")


def test_a_call_without_any_webhook_frees_its_slot_when_it_must_be_over(hms):
    app, _ = make_app(HMS_MAX_CONCURRENT_CALLS=1)
    state = app.extensions["hms_webcall"]
    now = [1000.0]
    state.store = MemoryCallStore(clock=lambda: now[0])
    assert start(client_for(app, "alice")).status_code == 201

    now[0] += 600  # token used at the last moment + a full 5-minute call: it may still be running
    assert_error(start(client_for(app, "bob")), 503, "busy")
    assert_error(start(client_for(app, "alice")), 429, "too_many_calls")

    now[0] += state.settings.slot_ttl(anonymous=False) - 600 + 1
    assert start(client_for(app, "bob")).status_code == 201


class BrokenStore(MemoryCallStore):
    def admit(self, *args, **kwargs):
        from flask_hms_webcall.store import StoreError

        raise StoreError("call store unavailable: ConnectionError")


def test_a_store_that_is_down_is_unavailable_not_a_crash(hms, caplog):
    app, _ = make_app()
    app.extensions["hms_webcall"].store = BrokenStore()
    with caplog.at_level(logging.ERROR, "flask_hms_webcall"):
        assert_error(start(client_for(app, "alice")), 503, "unavailable")
    assert hms.count == 0
    assert "call store" in caplog.text


# -------------------------------------------------------------------------------- the app's Limiter


def test_with_the_apps_own_limiter(hms):
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="x",
        HMS_API_KEY=API_KEY,
        HMS_ASSISTANT_ID=ASSISTANT_ID,
        HMS_WEBHOOK_SECRET=SECRET,
        HMS_RATE_LIMIT="3 per minute",
        HMS_MAX_CALLS_PER_USER=10,
    )
    limiter = Limiter(get_remote_address, app=app, default_limits=["1 per day"], storage_uri="memory://")

    @app.get("/ping")
    def ping():
        return "pong"

    HMSWebCall(app, limiter=limiter)
    assert app.extensions["hms_webcall"].limiter is limiter
    client = client_for(app)
    # The app's default limit still guards its own routes...
    assert [client.get("/ping").status_code for _ in range(2)] == [200, 429]
    # ...but not ours: the route has HMS_RATE_LIMIT instead, kept in the app's limiter storage.
    assert [start(client).status_code for _ in range(3)] == [201, 201, 201]
    response = start(client)
    assert_error(response, 429, "rate_limited")
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert hms.count == 3
    # Webhooks and the widget are never refused by the visitors' default limits.
    for _ in range(3):
        assert webhook(app, {"message": {"type": "status-update", "call": {"id": "x"}}}).status_code == 200
        assert client.get("/hms/widget.js").status_code in (200, 503)


def test_the_apps_limiter_given_to_init_app(hms):
    app = Flask(__name__)
    app.config.update(HMS_API_KEY=API_KEY, HMS_ASSISTANT_ID=ASSISTANT_ID, HMS_WEBHOOK_SECRET=SECRET,
                      HMS_RATE_LIMIT="1 per minute")  # fmt: skip
    limiter = Limiter(get_remote_address, storage_uri="memory://")
    limiter.init_app(app)
    HMSWebCall().init_app(app, limiter=limiter)
    client = client_for(app)
    assert start(client).status_code == 201
    assert_error(start(client), 429, "rate_limited")


def test_an_uninitialised_limiter_is_a_misconfiguration(hms, caplog):
    app, _ = make_app(limiter=Limiter(get_remote_address, storage_uri="memory://"))
    with caplog.at_level(logging.ERROR, "flask_hms_webcall"):
        assert_error(start(client_for(app)), 500, "misconfigured")
    assert "init_app" in caplog.text
    assert hms.count == 0


def test_with_a_disabled_limiter_no_rate_limit_applies(hms):
    app, _ = make_app(HMS_RATE_LIMIT="1 per minute", HMS_MAX_CALLS_PER_USER=10, RATELIMIT_ENABLED=False)
    alice = client_for(app, "alice")
    assert [start(alice).status_code for _ in range(3)] == [201, 201, 201]


# ----------------------------------------------------------------------------------------- Redis


@pytest.mark.redis
def test_limits_shared_through_redis(hms, redis_url):
    """Two apps (two workers) on one Redis share the org limit, the per-user limit and the rate limit."""
    workers = [
        make_app(HMS_STORAGE_URI=redis_url, HMS_MAX_CONCURRENT_CALLS=2, HMS_RATE_LIMIT="3 per minute")[0]
        for _ in range(2)
    ]
    first, second = workers
    call_id = start(client_for(first, "alice")).json["call_id"]
    assert_error(start(client_for(second, "alice")), 429, "too_many_calls")
    assert start(client_for(second, "bob")).status_code == 201
    assert_error(start(client_for(first, "carol")), 503, "busy")
    # The end of Alice's call, reported to the other worker, frees her slot everywhere.
    assert (
        webhook(second, {"message": {"type": "end-of-call-report", "call": {"id": call_id}}}).status_code
        == 200
    )
    assert start(client_for(first, "alice")).status_code == 201
    # Alice has now made 3 attempts (one refused); the fourth is over the shared rate limit.
    assert_error(start(client_for(second, "alice")), 429, "rate_limited")


# ------------------------------------------------------------------------------ widget and chunks


@pytest.fixture
def static_dir(tmp_path, monkeypatch):
    from flask_hms_webcall import _static

    monkeypatch.setattr(_static, "STATIC_DIR", tmp_path)
    return tmp_path


def test_widget_not_built_is_a_503_script_that_says_why(static_dir):
    app, _ = make_app()
    response = app.test_client().get("/hms/widget.js")
    assert response.status_code == 503
    assert response.mimetype == "text/javascript"
    assert "the widget is not built; run `make widget`" in response.get_data(as_text=True)
    assert "no-store" in response.headers["Cache-Control"]


def test_widget_and_chunks_are_served_with_caching_headers(static_dir):
    (static_dir / "widget.js").write_text("/* loader */")
    (static_dir / "call-DRT3XTHH.js").write_text("/* livekit chunk */")
    (static_dir / "notes.txt").write_text("plain")
    app, _ = make_app()
    client = app.test_client()

    widget = client.get("/hms/widget.js")
    assert widget.status_code == 200
    assert widget.get_data(as_text=True) == "/* loader */"
    assert widget.mimetype == "text/javascript"
    assert widget.headers["ETag"] and widget.headers["Last-Modified"]
    assert widget.cache_control.max_age == 60
    assert not widget.cache_control.immutable
    assert widget.headers.getlist("X-Content-Type-Options") == ["nosniff"]  # a script: never sniffed as else
    again = client.get("/hms/widget.js", headers={"If-None-Match": widget.headers["ETag"]})
    assert again.status_code == 304

    chunk = client.get("/hms/static/call-DRT3XTHH.js")
    assert chunk.status_code == 200
    assert chunk.cache_control.max_age == 365 * 24 * 3600
    assert chunk.cache_control.immutable
    assert chunk.headers["ETag"]

    # A name without a content hash may change content under the same URL: short caching only.
    assert client.get("/hms/static/notes.txt").cache_control.max_age == 60
    assert_error(client.get("/hms/static/call-MISSING0.js"), 404, "not_found")
    assert_error(client.get("/hms/static/%2e%2e/_config.py"), 404, "not_found")


# ------------------------------------------------------------------------------ JSON everywhere


def test_json_errors_for_anything_under_the_prefix(hms):
    app, _ = make_app()
    client = client_for(app)
    assert_error(client.get("/hms/web-calls"), 405, "method_not_allowed")
    assert client.get("/hms/web-calls").headers["Allow"] == "POST, OPTIONS"
    assert_error(client.put("/hms/webhooks"), 405, "method_not_allowed")
    assert_error(client.post("/hms/widget.js"), 405, "method_not_allowed")
    assert_error(client.get("/hms/does-not-exist"), 404, "not_found")
    assert_error(client.get("/hms/"), 404, "not_found")
    assert_error(client.get("/hms/static/../../_config.py"), 404, "not_found")
    assert_error(client.get("/hms/static/nope.js"), 404, "not_found")
    # Outside the prefix the app's own error pages are untouched.
    assert not client.get("/elsewhere").is_json


def test_app_max_content_length_is_a_json_413(hms):
    app, _ = make_app(MAX_CONTENT_LENGTH=100)
    response = start(
        client_for(app), data=b'{"context": {"a": "' + b"x" * 200 + b'"}}', content_type="application/json"
    )
    assert_error(response, 413, "payload_too_large")
    assert hms.count == 0


def test_the_key_never_appears_in_any_response_or_log(hms, caplog):
    app, webcall = make_app(HMS_MAX_CONCURRENT_CALLS=1, HMS_RATE_LIMIT="3 per minute")
    client = client_for(app, "alice")
    texts = []
    with caplog.at_level(logging.DEBUG):
        for _ in range(4):
            texts.append(start(client).get_data(as_text=True))
        texts.append(start(client, {"assistant_id": ASSISTANT_ID}).get_data(as_text=True))
        texts.append(client.get("/hms/widget.js").get_data(as_text=True))
        texts.append(client.post("/hms/webhooks", data=b"{}").get_data(as_text=True))
        hms.fail(401, {"detail": "Invalid API key"})
        texts.append(start(client_for(app, "zed")).get_data(as_text=True))
    for text in texts:
        assert API_KEY not in text
    assert API_KEY not in caplog.text
