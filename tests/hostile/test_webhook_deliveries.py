"""POST {prefix}/webhooks: nothing unverified reaches a handler (401); an authentic delivery is dispatched
once or, when it is not an envelope, refused as 400; the size limit holds however the body arrives."""

from __future__ import annotations

import json
import time

from hypothesis import given
from hypothesis import strategies as st

from tests.hostile.contract import OLD_SECRET, assert_clean, assert_refused, hostile_app
from tests.hostile.strategies import BOUNDED, HEADER_TEXT, JSON_VALUES, encode
from tests.hostile.streams import Endless, post_stream
from tests.support import SECRET, signed


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


# ---------------------------------------------------------------------------------------------- signature


@BOUNDED
@given(
    raw=WEBHOOK_BODIES,
    signature=st.one_of(
        st.none(),
        HEADER_TEXT,
        st.text("0123456789abcdef", min_size=64, max_size=64).map(lambda h: "sha256=" + h),
    ),
    timestamp=st.one_of(st.none(), HEADER_TEXT, st.integers().map(str), st.just(str(int(time.time())))),
    secret=st.sampled_from([None, "", "whsec_someone_else", SECRET[:-1], SECRET.upper()]),
)
def test_unverified_deliveries_are_401_and_reach_no_handler(raw, signature, timestamp, secret):
    app, _, seen = hostile_app()
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers.update(signed(raw, secret))  # signed, but with a secret that is not configured
    if signature is not None:
        headers["X-Webhook-Signature"] = signature
    if timestamp is not None:
        headers["X-Webhook-Timestamp"] = timestamp
    response = app.test_client().post("/hms/webhooks", data=raw, headers=headers)
    assert_refused(response, "invalid_signature")
    assert seen == []


def test_a_stale_or_future_but_correct_signature_reaches_no_handler():
    app, _, seen = hostile_app()
    body = encode({"message": {"type": "status-update", "status": "ended"}}, True)
    for ts in (int(time.time()) - 301, int(time.time()) + 301, 0, 10**12 - 1):
        response = app.test_client().post("/hms/webhooks", data=body, headers=signed(body, ts=ts))
        assert_refused(response, "invalid_signature")
    assert seen == []


# --------------------------------------------------------------------------------------------------- body


@BOUNDED
@given(raw=WEBHOOK_BODIES, secret=st.sampled_from([SECRET, OLD_SECRET]))
def test_authentic_deliveries_are_dispatched_once_or_refused_as_400(raw, secret):
    app, _, seen = hostile_app()
    response = app.test_client().post("/hms/webhooks", data=raw, headers=signed(raw, secret))
    if not envelope_ok(raw):
        assert_refused(response, "invalid_payload")
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


def test_a_valid_signature_over_garbage_is_400():
    app, _, seen = hostile_app()
    for raw in (b"\x00\xff garbage", b"", b"null", b"[1,2]", b'{"message": 1e400}', b'"\\ud800"'):
        response = app.test_client().post("/hms/webhooks", data=raw, headers=signed(raw))
        assert_refused(response, "invalid_payload")
    assert seen == []


# ------------------------------------------------------------------------------------------ size and length


def test_an_endless_chunked_delivery_is_413_after_reading_just_past_the_limit():
    app, _, seen = hostile_app(HMS_WEBHOOK_MAX_BYTES=4096)
    stream = Endless()
    response = post_stream(app, "/hms/webhooks", stream, signed(b"whatever"))
    assert_refused(response, "payload_too_large")
    assert stream.served <= 4097
    assert seen == []


def test_a_declared_length_over_the_limit_is_413_unread():
    app, _, seen = hostile_app(HMS_WEBHOOK_MAX_BYTES=4096)
    stream = Endless(size=50)
    response = post_stream(app, "/hms/webhooks", stream, signed(b"x" * 50), content_length=10**12)
    assert_refused(response, "payload_too_large")
    assert stream.served == 0
    assert seen == []


def test_a_declared_length_under_the_truth_reads_only_what_was_declared():
    app, _, seen = hostile_app(HMS_WEBHOOK_MAX_BYTES=4096)
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
    assert_refused(response, "invalid_signature")
    assert len(seen) == 1


def test_a_body_shorter_than_its_declared_length_is_refused():
    app, _, seen = hostile_app()
    body = encode({"message": {"type": "status-update", "status": "ended"}}, True)
    stream = Endless(data=body, size=len(body))
    response = post_stream(app, "/hms/webhooks", stream, signed(body), content_length=len(body) + 100)
    assert_refused(response, "invalid_request", "invalid_signature")
    assert seen == []


def test_a_delivery_arriving_in_small_reads_is_read_whole():
    """A socket, or a WSGI server's chunked input, may hand the body over a few bytes per read."""
    app, _, seen = hostile_app(HMS_WEBHOOK_MAX_BYTES=4096)
    body = encode({"message": {"type": "end-of-call-report", "summary": "s" * 2000}}, True)
    for content_length in (None, len(body)):
        stream = Endless(data=body, size=len(body), step=100)
        response = post_stream(app, "/hms/webhooks", stream, signed(body), content_length=content_length)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert seen[-1].summary == "s" * 2000
    assert len(seen) == 1  # the second was the same delivery: acknowledged, not dispatched again

    big = encode({"message": {"type": "end-of-call-report", "summary": "s" * 5000}}, True)
    stream = Endless(data=big, size=len(big), step=100)
    assert_refused(post_stream(app, "/hms/webhooks", stream, signed(big)), "payload_too_large")
    assert stream.served <= 4097


def test_a_chunked_delivery_over_the_apps_max_content_length_is_413():
    # The app's own MAX_CONTENT_LENGTH is lower than the webhook limit: Flask's limit wins, and the body is
    # refused rather than cut off at that length and taken for the whole delivery.
    app, _, seen = hostile_app(MAX_CONTENT_LENGTH=2048)
    body = encode({"message": {"type": "end-of-call-report", "summary": "s" * 3000}}, True)
    stream = Endless(data=body, size=len(body))
    assert_refused(post_stream(app, "/hms/webhooks", stream, signed(body)), "payload_too_large")
    assert stream.served <= 2048
    prefix = body[:2048]
    stream = Endless(data=body, size=len(body))
    assert_refused(post_stream(app, "/hms/webhooks", stream, signed(prefix)), "payload_too_large")
    assert seen == []


def test_a_declared_delivery_over_the_apps_max_content_length_is_413_unread():
    app, _, seen = hostile_app(MAX_CONTENT_LENGTH=2048)
    body = encode({"message": {"type": "end-of-call-report", "summary": "s" * 3000}}, True)
    stream = Endless(data=body, size=len(body))
    response = post_stream(app, "/hms/webhooks", stream, signed(body), content_length=len(body))
    assert_refused(response, "payload_too_large")
    assert stream.served == 0
    assert seen == []
