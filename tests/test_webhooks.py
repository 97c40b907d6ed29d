"""POST {prefix}/webhooks: size limit first, then the signature, then parsing, de-duplication and dispatch."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import time

import pytest
from flask import Flask

from flask_hms_webcall import EndOfCallReport, HMSWebCall, StatusUpdate, ToolCalls, UnknownEvent
from tests.support import SECRET, assert_error, configured_app, make_app, signed

OLD_SECRET = "whsec_webhooks_previous"
CALL_ID = "3f2a1b4c-5d6e-7f8a-9b0c-1d2e3f4a5b6c"


class Recorder:
    """Registers handlers that record what they receive."""

    def __init__(self, webcall: HMSWebCall) -> None:
        self.typed: list = []
        self.every: list = []

        @webcall.on("status-update")
        def status(event):
            self.typed.append(event)

        @webcall.on("end-of-call-report")
        def report(event):
            self.typed.append(event)

        @webcall.on()
        def anything(event):
            self.every.append(event)


def message(event_type: str = "status-update", **fields) -> dict:
    return {
        "message": {
            "type": event_type,
            "call": {"id": CALL_ID, "type": "web_call", "status": "in-progress"},
            "assistant": {"metadata": {"user_id": "usr_8f3a2b1c", "UserID": "as-sent"}},
            **fields,
        }
    }


def encode(payload) -> bytes:
    return json.dumps(payload).encode()


def deliver(
    app: Flask, body: bytes | dict, *, secret: str | None = SECRET, ts: int | None = None, headers=None
):
    """POSTs ``body`` signed with ``secret`` over ``ts`` (unsigned when None); ``headers`` replace the signed
    ones, or remove them when None."""
    if isinstance(body, dict):
        body = encode(body)
    sent = {"Content-Type": "application/json", **signed(body, secret, ts)}
    sent.update(headers or {})
    sent = {k: v for k, v in sent.items() if v is not None}
    return app.test_client().post("/hms/webhooks", data=body, headers=sent)


def test_the_apps_own_flask_limiter_never_refuses_a_delivery():
    from flask_limiter import Limiter
    from flask_limiter.util import get_remote_address

    app = configured_app()
    # Limits meant for visitors, app-wide and per route, that HMS's retries alone would exceed.
    limiter = Limiter(
        get_remote_address,
        app=app,
        application_limits=["2/hour"],
        default_limits=["2/hour"],
        storage_uri="memory://",
    )
    HMSWebCall(app, limiter=limiter)
    for n in range(4):
        assert deliver(app, message(status=f"in-progress-{n}")).status_code == 200


# ------------------------------------------------------------------------------------ authentic ones


def test_a_signed_status_update_is_dispatched():
    app, webcall = make_app()
    seen = Recorder(webcall)
    response = deliver(app, message("status-update", status="in-progress"))
    assert response.status_code == 200
    assert response.json == {"ok": True}
    # Signed, so answered to HMS's servers alone: none of the headers a browser needs.
    assert "Cache-Control" not in response.headers and "X-Content-Type-Options" not in response.headers
    [event] = seen.typed
    assert isinstance(event, StatusUpdate)
    assert (event.call_id, event.call_type, event.status) == (CALL_ID, "web_call", "in-progress")
    assert event.metadata == {"user_id": "usr_8f3a2b1c", "UserID": "as-sent"}
    assert event.raw == message("status-update", status="in-progress")
    assert seen.every == [event]


@pytest.mark.parametrize(
    "fields",
    [
        {
            "endedReason": "user_hangup",
            "durationSeconds": 47,
            "summary": "Pricing.",
            "transcript": ["Hi", "Bye"],
        },
        {
            "end_reason": "user_hangup",
            "duration_seconds": 47,
            "summary": "Pricing.",
            "messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Bye"}],
        },
    ],
    ids=["camelCase", "snake_case"],
)
def test_both_field_spellings_of_the_end_of_call_report(fields):
    app, webcall = make_app()
    seen = Recorder(webcall)
    assert deliver(app, message("end-of-call-report", **fields)).status_code == 200
    [event] = seen.typed
    assert isinstance(event, EndOfCallReport)
    assert (event.ended_reason, event.duration_seconds, event.summary) == ("user_hangup", 47, "Pricing.")
    assert len(event.transcript) == 2


def test_within_tolerance_is_accepted():
    app, webcall = make_app()
    seen = Recorder(webcall)
    assert deliver(app, message(), ts=int(time.time()) - 290).status_code == 200
    assert deliver(app, message(status="x"), ts=int(time.time()) + 290).status_code == 200
    assert len(seen.typed) == 2


def test_secret_rotation_accepts_every_configured_secret():
    app, webcall = make_app(HMS_WEBHOOK_SECRET=[SECRET, OLD_SECRET])
    seen = Recorder(webcall)
    assert deliver(app, message(status="a"), secret=SECRET).status_code == 200
    assert deliver(app, message(status="b"), secret=OLD_SECRET).status_code == 200
    assert_error(deliver(app, message(status="c"), secret="whsec_retired"), 401, "invalid_signature")
    assert [e.raw["message"]["status"] for e in seen.typed] == ["a", "b"]


# ----------------------------------------------------------------------------------------- refused


def stale() -> int:
    return int(time.time()) - 301


def future() -> int:
    return int(time.time()) + 301


@pytest.mark.parametrize(
    "case",
    [
        {"headers": {"X-Webhook-Signature": None}},
        {"headers": {"X-Webhook-Timestamp": None}},
        {"headers": {"X-Webhook-Timestamp": ""}},
        {"headers": {"X-Webhook-Signature": ""}},
        {"headers": {"X-Webhook-Signature": "sha256=zzzz"}},
        {"headers": {"X-Webhook-Signature": "md5=d41d8cd98f00b204e9800998ecf8427e"}},
        {"headers": {"X-Webhook-Signature": "sha256=" + "0" * 64}},
        {"headers": {"X-Webhook-Signature": "sha256=é"}},
        {"headers": {"X-Webhook-Timestamp": "yesterday"}},
        {"headers": {"X-Webhook-Timestamp": "1.5e9"}},
        {"headers": {"X-Webhook-Timestamp": "-1"}},
        {"secret": "whsec_wrong"},
        {"secret": None},
        {"ts": "stale"},
        {"ts": "future"},
    ],
    ids=lambda case: json.dumps(case)[:60],
)
def test_missing_malformed_wrong_or_stale_signatures_are_401(case):
    app, webcall = make_app()
    seen = Recorder(webcall)
    ts = {"stale": stale(), "future": future()}.get(case.get("ts"))
    response = deliver(app, message(), secret=case.get("secret", SECRET), ts=ts, headers=case.get("headers"))
    assert_error(response, 401, "invalid_signature")
    assert seen.typed == seen.every == []


def test_a_refusal_anyone_can_get_carries_the_browsers_headers():
    app, _ = make_app()
    for response in (
        deliver(app, message(), secret="whsec_wrong"),
        app.test_client().post("/hms/webhooks", data=b"x" * 70_000),
        app.test_client().get("/hms/webhooks"),
    ):
        assert response.status_code >= 400
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers.getlist("X-Content-Type-Options") == ["nosniff"]


def test_a_tampered_body_is_401():
    app, webcall = make_app()
    seen = Recorder(webcall)
    body = encode(message())
    tampered = body.replace(b"in-progress", b"ended")
    response = app.test_client().post("/hms/webhooks", data=tampered, headers=signed(body))
    assert_error(response, 401, "invalid_signature")
    assert seen.every == []


def test_a_signature_over_another_timestamp_is_401():
    app, _ = make_app()
    ts = int(time.time())
    body = encode(message())
    signed_a_second_earlier = {**signed(body, ts=ts - 1), "X-Webhook-Timestamp": str(ts)}
    response = app.test_client().post("/hms/webhooks", data=body, headers=signed_a_second_earlier)
    assert_error(response, 401, "invalid_signature")


def test_tolerance_is_configurable():
    app, _ = make_app(HMS_WEBHOOK_TOLERANCE=10)
    assert deliver(app, message(), ts=int(time.time()) - 5).status_code == 200
    assert_error(deliver(app, message(status="x"), ts=int(time.time()) - 20), 401, "invalid_signature")


def test_without_a_configured_secret_every_delivery_is_refused(caplog):
    with pytest.warns(UserWarning):
        app, webcall = make_app(HMS_WEBHOOK_SECRET=None)
    seen = Recorder(webcall)
    for secret in (SECRET, "", None):
        assert_error(deliver(app, message(), secret=secret), 401, "invalid_signature")
    assert seen.every == []


def test_an_oversized_body_is_413_before_the_signature_is_looked_at():
    app, webcall = make_app(HMS_WEBHOOK_MAX_BYTES=2048)
    seen = Recorder(webcall)
    big = message(summary="x" * 4000)
    assert_error(deliver(app, big), 413, "payload_too_large")  # validly signed
    assert_error(deliver(app, big, secret=None), 413, "payload_too_large")  # not signed at all
    assert deliver(app, message(summary="x" * 1000)).status_code == 200
    assert len(seen.every) == 1


def test_the_default_size_limit_is_one_mebibyte():
    app, _ = make_app()
    exactly = encode(message(summary=""))
    padding = 1024 * 1024 - len(exactly)
    fits = encode(message(summary="x" * padding))
    assert len(fits) == 1024 * 1024
    assert deliver(app, fits).status_code == 200
    assert_error(deliver(app, encode(message(summary="x" * (padding + 1)))), 413, "payload_too_large")


def test_a_streamed_body_without_content_length_is_cut_at_the_limit():
    app, _ = make_app(HMS_WEBHOOK_MAX_BYTES=2048)
    body = encode(message(summary="x" * 5000))
    response = app.test_client().post(
        "/hms/webhooks",
        input_stream=io.BytesIO(body),
        headers={"Transfer-Encoding": "chunked", **signed(body)},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert_error(response, 413, "payload_too_large")


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'{"message": ',
        b"\xff\xfe\x00",
        b"[]",
        b'"message"',
        b"null",
        b"{}",
        b'{"message": null}',
        b'{"message": "status-update"}',
        b'{"message": ["status-update"]}',
        b'{"msg": {"type": "status-update"}}',
        b"[" * 5000 + b"]" * 5000,
    ],
    ids=lambda b: b[:30].decode("latin-1"),
)
def test_authentic_but_unusable_bodies_are_400(body):
    app, webcall = make_app()
    seen = Recorder(webcall)
    assert_error(deliver(app, body), 400, "invalid_payload")
    assert seen.every == []


@pytest.mark.parametrize(
    "body",
    [
        json.dumps(message()).encode("utf-16"),
        json.dumps(message()).encode("utf-32-le"),
        b"\xef\xbb\xbf" + encode(message()),
        encode(message(summary="x")).replace(b'"x"', b'"\xed\xa0\x80"'),  # a lone surrogate
    ],
    ids=["utf-16", "utf-32-le", "utf-8 byte-order mark", "lone surrogate"],
)
def test_a_body_json_reads_in_another_encoding_is_still_dispatched(body):
    # UTF-8 is read the fast way; whatever json.loads also accepts, as it did before, still parses.
    app, webcall = make_app()
    seen = Recorder(webcall)
    response = deliver(app, body)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert [event.call_id for event in seen.every] == [CALL_ID]


# ---------------------------------------------------------------------------------- dispatch rules


def test_unknown_types_go_to_catch_all_handlers_only():
    app, webcall = make_app()
    seen = Recorder(webcall)
    bare = []
    webcall.on(bare.append)  # the decorator without parentheses
    for event_type in ("assistant-request", "transcript-update", ""):
        assert deliver(app, message(event_type)).status_code == 200
    assert seen.typed == []
    assert [e.type for e in seen.every] == ["assistant-request", "transcript-update", ""]
    assert all(isinstance(e, UnknownEvent) for e in seen.every)
    assert bare == seen.every


def test_registering_a_handler_for_an_unknown_type_is_an_error():
    _, webcall = make_app()
    with pytest.raises(ValueError, match="end-of-call-reprot"):
        webcall.on("end-of-call-reprot")


def test_a_duplicate_is_acknowledged_but_dispatched_once():
    app, webcall = make_app()
    seen = Recorder(webcall)
    body = encode(message("end-of-call-report", summary="once"))
    ts = int(time.time())
    first = deliver(app, body, ts=ts)
    replay = deliver(app, body, ts=ts)  # the very same delivery again
    resigned = deliver(app, body, ts=ts + 1)  # an HMS retry, signed anew
    assert (first.status_code, replay.status_code, resigned.status_code) == (200, 200, 200)
    assert replay.json["duplicate"] is True
    assert len(seen.typed) == len(seen.every) == 1


def test_a_failing_handler_is_500_and_a_retry_runs_it_again(caplog):
    app, webcall = make_app()
    attempts = []

    @webcall.on("end-of-call-report")
    def flaky(event):
        attempts.append(event)
        if len(attempts) == 1:
            raise RuntimeError("database locked: internal detail")

    body = encode(message("end-of-call-report"))
    with caplog.at_level(logging.ERROR, "flask_hms_webcall"):
        failed = deliver(app, body)
    assert_error(failed, 500, "handler_error")
    assert "internal detail" not in failed.get_data(as_text=True)
    assert "internal detail" in caplog.text and "RuntimeError" in caplog.text

    retried = deliver(app, body)
    assert retried.status_code == 200
    assert retried.json == {"ok": True}
    assert deliver(app, body).json["duplicate"] is True
    assert len(attempts) == 2


def test_a_delivery_being_handled_elsewhere_is_not_run_twice_at_once():
    app, webcall = make_app()
    seen = Recorder(webcall)
    body = encode(message())
    store = app.extensions["hms_webcall"].store
    key = hashlib.sha256(body).hexdigest()
    assert store.claim_delivery(key, ttl=60)  # another worker is on it
    assert_error(deliver(app, body), 409, "delivery_in_progress")
    assert seen.every == []
    store.abandon_delivery(key)  # ...and it failed
    assert deliver(app, body).status_code == 200
    assert len(seen.every) == 1


def test_handlers_run_in_registration_order():
    app, webcall = make_app()
    order = []
    webcall.on()(lambda e: order.append("every"))
    webcall.on("status-update")(lambda e: order.append("status"))
    deliver(app, message())
    assert order == ["every", "status"]


# ------------------------------------------------------------------------------------------- tools


def tool_calls(*calls, key: str = "tool_call_list") -> dict:
    return message("tool-calls", **{key: list(calls)})


def function_call(call_id: str, name: str, arguments) -> dict:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def test_tools_answer_tool_calls():
    app, webcall = make_app()
    received = []

    @webcall.tool("lookup_order")
    def lookup_order(arguments, event):
        received.append((arguments, event))
        return {"status": "shipped", "order_id": arguments["order_id"]}

    @webcall.tool
    def greet(arguments, event):
        return f"Hello {arguments.get('name', 'there')}"

    response = deliver(
        app,
        tool_calls(
            function_call("tc_1", "lookup_order", {"order_id": "1042"}),
            function_call("tc_2", "greet", {"name": "Ana"}),
        ),
    )
    assert response.status_code == 200
    assert response.json == {
        "results": [
            {"tool_call_id": "tc_1", "result": json.dumps({"status": "shipped", "order_id": "1042"})},
            {"tool_call_id": "tc_2", "result": "Hello Ana"},
        ]
    }
    [(arguments, event)] = received
    assert arguments == {"order_id": "1042"}
    assert isinstance(event, ToolCalls) and event.call_id == CALL_ID


def test_tool_calls_in_camel_case_and_with_string_arguments():
    app, webcall = make_app()
    webcall.tool("lookup_order")(lambda arguments, event: arguments["order_id"])
    payload = tool_calls(function_call("tc_9", "lookup_order", '{"order_id": "7"}'), key="toolCallList")
    assert deliver(app, payload).json == {"results": [{"tool_call_id": "tc_9", "result": "7"}]}


def test_a_failing_or_missing_tool_answers_an_error_result_not_a_500(caplog):
    app, webcall = make_app()

    @webcall.tool("explode")
    def explode(arguments, event):
        raise KeyError("secret internals")

    webcall.tool("unserialisable")(lambda arguments, event: object())
    webcall.tool("fine")(lambda arguments, event: "ok")
    with caplog.at_level(logging.ERROR, "flask_hms_webcall"):
        response = deliver(
            app,
            tool_calls(
                function_call("a", "explode", {}),
                function_call("b", "nobody_registered_this", {}),
                function_call("c", "unserialisable", {}),
                function_call("d", "fine", {}),
            ),
        )
    assert response.status_code == 200
    results = {r["tool_call_id"]: r["result"] for r in response.json["results"]}
    assert results["d"] == "ok"
    for failed in "abc":
        assert results[failed].startswith("Error:")
        assert "secret internals" not in results[failed]
    assert "secret internals" in caplog.text


def test_an_observer_of_tool_calls_that_raises_is_a_500():
    app, webcall = make_app()
    ran = []
    webcall.tool("t")(lambda arguments, event: ran.append(1) or "done")

    @webcall.on("tool-calls")
    def observer(event):
        raise RuntimeError("boom")

    assert_error(deliver(app, tool_calls(function_call("x", "t", {}))), 500, "handler_error")
    assert ran == []


def test_a_duplicate_tool_call_delivery_runs_no_tool():
    app, webcall = make_app()
    ran = []
    webcall.tool("t")(lambda arguments, event: ran.append(1) or "done")
    body = encode(tool_calls(function_call("x", "t", {})))
    assert deliver(app, body).json == {"results": [{"tool_call_id": "x", "result": "done"}]}
    again = deliver(app, body)
    assert again.status_code == 200
    assert again.json["results"] == []
    assert ran == [1]
