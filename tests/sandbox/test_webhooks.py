"""The sandbox's webhooks, received by a real HTTP server and checked with the extension's own verifier."""

from __future__ import annotations

import socket
import threading
import time
from datetime import datetime

import pytest
import requests

from flask_hms_webcall.errors import WebhookSignatureError
from flask_hms_webcall.signature import verify
from tests.conftest import free_port
from tests.support import wait_until

SECRET = "whsec_sandbox_test"
METADATA = {
    "UserID": "usr_8f3a2b1c",
    "user_id": "lower",
    "sessionId": "ses_9d4e3c2b",
    "nested": {"A b": [1, 2.5, None, True], "empty": {}},
    "ünïcødé": "✓ ok",
    "lone \ud800 surrogate": "\udfff",  # valid JSON, not valid UTF-8: must still arrive intact
}
TRANSIENT = {
    "stt_config": {"provider": "deepgram", "model": "nova-3", "language": "en"},
    "llm_config": {"provider": "openai", "model": "gpt-4.1-mini", "messages": []},
    "tts_config": {"provider": "elevenlabs", "voice_id": "v"},
}


def records_of(sandbox, call_id):
    return [r for r in sandbox.webhooks() if r["call_id"] == call_id]


def test_a_call_fires_signed_status_updates_and_a_report(sandbox_factory, webhook_receiver):
    sandbox = sandbox_factory("--webhook-url", webhook_receiver.url, "--webhook-secret", SECRET)
    started = int(time.time())
    created = sandbox.create_call(
        {"assistant_id": sandbox.assistant_id, "assistant_override": {"metadata": METADATA}}
    ).json()
    call_id = created["call_id"]

    sandbox.join(call_id)
    webhook_receiver.wait_for_event("status-update")
    said = [{"role": "user", "content": "What does it cost?"}, {"role": "assistant", "content": "Nothing."}]
    ended = sandbox.end(call_id, "user_hangup", messages=said)
    deliveries = webhook_receiver.wait_for_event("end-of-call-report")

    assert [d.event for d in deliveries] == ["status-update", "status-update", "end-of-call-report"]
    for delivery in deliveries:
        headers = delivery.headers
        assert headers["Content-Type"] == "application/json"
        assert headers["User-Agent"] == "HMS-Sovereign/1.0"
        assert headers["X-Webhook-Event"] == delivery.json["message"]["type"]
        assert headers["X-Webhook-Timestamp"].isdigit()  # Unix seconds
        assert started <= int(headers["X-Webhook-Timestamp"]) <= time.time()  # signed during the call
        assert headers["X-Webhook-Signature"].startswith("sha256=")
        verify(delivery.body, headers["X-Webhook-Signature"], headers["X-Webhook-Timestamp"], SECRET)
        with pytest.raises(WebhookSignatureError):
            verify(delivery.body, headers["X-Webhook-Signature"], headers["X-Webhook-Timestamp"], "other")
        assert SECRET.encode() not in delivery.body
        message = delivery.json["message"]
        assert message["call"]["id"] == call_id
        assert message["call"]["type"] == "web_call"
        # Passed through untouched: same keys (no case conversion), same values.
        assert message["assistant"]["metadata"] == METADATA
        assert list(message["assistant"]["metadata"]) == list(METADATA)
        datetime.fromisoformat(message["timestamp"].replace("Z", "+00:00"))

    started, stopped, report = (d.json["message"] for d in deliveries)
    assert started["status"] == started["call"]["status"] == "in-progress"
    assert stopped["status"] == stopped["call"]["status"] == "ended"
    assert stopped["endedReason"] == "user_hangup"
    assert report["call"]["status"] == "ended"
    assert report["endedReason"] == "user_hangup"
    assert report["durationSeconds"] == ended["duration_seconds"]
    assert isinstance(report["summary"], str)
    assert report["summary"]
    assert report["messages"] == ended["transcript"]
    assert len(report["transcript"]) == len(ended["transcript"])
    assert all(isinstance(line, str) for line in report["transcript"])
    assert "What does it cost?" in report["transcript"][-2]
    assert report["started_at"] < report["ended_at"]


def test_without_a_secret_deliveries_are_unsigned(sandbox, webhook_receiver):
    assistant = {**TRANSIENT, "webhook_url": webhook_receiver.url}
    call_id = sandbox.create_call({"assistant": assistant}).json()["call_id"]

    sandbox.join(call_id)
    [delivery] = webhook_receiver.wait_for_event("status-update")

    assert "X-Webhook-Signature" not in delivery.headers
    assert delivery.headers["X-Webhook-Timestamp"].isdigit()
    assert delivery.json["message"]["assistant"]["metadata"] == {}


def test_an_override_redirects_and_re_signs_the_webhooks(sandbox_factory, webhook_receiver):
    sandbox = sandbox_factory(
        "--webhook-url", f"http://127.0.0.1:{free_port()}/unused", "--webhook-secret", "saved"
    )
    override = {"webhook_url": webhook_receiver.url, "webhook_secret": SECRET, "metadata": {"k": "v"}}
    call_id = sandbox.create_call(
        {"assistant_id": sandbox.assistant_id, "assistant_override": override}
    ).json()["call_id"]

    sandbox.join(call_id)
    [delivery] = webhook_receiver.wait_for_event("status-update")

    verify(
        delivery.body,
        delivery.headers["X-Webhook-Signature"],
        delivery.headers["X-Webhook-Timestamp"],
        SECRET,
    )
    assert delivery.json["message"]["assistant"]["metadata"] == {"k": "v"}


def test_webhook_events_limits_what_is_sent(sandbox, webhook_receiver):
    only_reports = {
        **TRANSIENT,
        "webhook_url": webhook_receiver.url,
        "webhook_events": ["end-of-call-report"],
    }
    nothing = {**TRANSIENT, "webhook_url": webhook_receiver.url, "webhook_events": []}
    reported = sandbox.create_call({"assistant": only_reports}).json()["call_id"]
    silent = sandbox.create_call({"assistant": nothing}).json()["call_id"]

    for call_id in (silent, reported):
        sandbox.join(call_id)
        sandbox.end(call_id)
    deliveries = webhook_receiver.wait_for_event("end-of-call-report")

    # One call's deliveries go out in order, so a status-update would have arrived before its report.
    assert [(d.event, d.json["message"]["call"]["id"]) for d in deliveries] == [
        ("end-of-call-report", reported)
    ]
    assert [r["event"] for r in records_of(sandbox, reported)] == ["end-of-call-report"]
    assert records_of(sandbox, silent) == []


def test_a_failed_delivery_is_retried_until_it_lands(sandbox_factory, webhook_receiver):
    sandbox = sandbox_factory(
        "--webhook-url", webhook_receiver.url, "--webhook-secret", SECRET, "--webhook-backoff", "0.1"
    )
    webhook_receiver.fail_next(2)
    call_id = sandbox.create_call().json()["call_id"]

    sandbox.join(call_id)
    deliveries = webhook_receiver.wait_for_event("status-update")

    assert [d.answered for d in deliveries] == [500, 500, 200]
    assert len({d.body for d in deliveries}) == 1  # the same event each time
    for delivery in deliveries:  # each attempt is stamped and signed on its own
        verify(
            delivery.body,
            delivery.headers["X-Webhook-Signature"],
            delivery.headers["X-Webhook-Timestamp"],
            SECRET,
        )
    [record] = wait_until(lambda: [r for r in records_of(sandbox, call_id) if r["delivered"] is not None])
    assert record["attempts"] == 3
    assert record["delivered"] is True
    assert record["last_status"] == 200


def test_delivery_is_given_up_after_the_retries_and_later_events_still_go(sandbox_factory, webhook_receiver):
    sandbox = sandbox_factory(
        "--webhook-url",
        webhook_receiver.url,
        "--webhook-retries",
        "2",
        "--webhook-backoff",
        "0.05",
    )
    webhook_receiver.fail_next(3, status=503)
    call_id = sandbox.create_call().json()["call_id"]

    sandbox.join(call_id)
    sandbox.end(call_id)
    deliveries = webhook_receiver.wait_for_event("end-of-call-report")

    assert [(d.event, d.answered) for d in deliveries] == [("status-update", 503)] * 3 + [
        ("status-update", 200),
        ("end-of-call-report", 200),
    ]
    first = wait_until(lambda: [r for r in records_of(sandbox, call_id) if r["delivered"] is not None])[0]
    assert first == {
        "call_id": call_id,
        "event": "status-update",
        "url": webhook_receiver.url,
        "attempts": 3,
        "delivered": False,
        "last_status": 503,
        "last_error": None,
    }
    assert "gave up delivering status-update" in sandbox.output()


class SilentReceiver:
    """A webhook receiver that accepts connections and never answers: a delivery to it hangs until the
    sandbox's own timeout."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}/hooks"
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            self.connections.append(connection)

    def close(self) -> None:
        self.server.close()
        for connection in self.connections:
            connection.close()


def test_a_hanging_receiver_never_blocks_the_api(sandbox_factory):
    receiver = SilentReceiver()
    try:
        sandbox = sandbox_factory("--webhook-url", receiver.url, "--webhook-timeout", "60")
        call_id = sandbox.create_call().json()["call_id"]
        sandbox.join(call_id)  # the in-progress status update goes out, and hangs
        wait_until(lambda: receiver.connections)

        # While that delivery still waits for an answer, the API answers every request.
        for _ in range(2):  # the org's third and last slot is the hanging call's
            assert sandbox.create_call().status_code == 200
        assert sandbox.stats()["active_calls"] == 3
        sandbox.end(call_id)  # raises unless answered 2xx
        [record] = [r for r in records_of(sandbox, call_id) if r["event"] == "status-update"][:1]
        assert record["delivered"] is not True  # still pending: the answers above did not wait for it
    finally:
        receiver.close()


def test_an_unreachable_receiver_is_given_up_after_its_retries(sandbox_factory):
    dead = f"http://127.0.0.1:{free_port()}/hooks"
    sandbox = sandbox_factory("--webhook-url", dead, "--webhook-retries", "1", "--webhook-backoff", "0")
    call_id = sandbox.create_call().json()["call_id"]

    sandbox.join(call_id)
    sandbox.end(call_id)

    assert sandbox.create_call().status_code == 200
    records = wait_until(lambda: [r for r in records_of(sandbox, call_id) if r["delivered"] is False])
    assert records[0]["last_error"] is not None
    assert records[0]["attempts"] == 2


def test_a_room_nobody_joined_ends_with_an_error_status_and_no_report(sandbox_factory, webhook_receiver):
    sandbox = sandbox_factory("--webhook-url", webhook_receiver.url, "--unjoined-room-ttl", "1")
    call_id = sandbox.create_call().json()["call_id"]

    [delivery] = webhook_receiver.wait_for_event("status-update")

    message = delivery.json["message"]
    assert message["call"]["id"] == call_id
    assert message["status"] == message["call"]["status"] == "ended-with-error"
    assert message["endedReason"] == "error"
    assert "nobody joined" in message["error"]
    assert [r["event"] for r in records_of(sandbox, call_id)] == ["status-update"]


def test_max_duration_is_the_reported_end_reason(sandbox_factory, webhook_receiver):
    sandbox = sandbox_factory("--webhook-url", webhook_receiver.url, "--max-duration", "1")
    call_id = sandbox.create_call().json()["call_id"]

    sandbox.join(call_id)
    deliveries = webhook_receiver.wait_for_event("end-of-call-report")

    report = deliveries[-1].json["message"]
    assert report["call"]["id"] == call_id
    assert report["endedReason"] == "max_duration"
    assert report["durationSeconds"] >= 1


def test_webhook_secrets_never_appear_in_control_answers(sandbox_factory, webhook_receiver):
    sandbox = sandbox_factory("--webhook-url", webhook_receiver.url, "--webhook-secret", SECRET)
    call_id = sandbox.create_call().json()["call_id"]
    sandbox.join(call_id)
    webhook_receiver.wait_for_event("status-update")

    for path in ("calls", f"calls/{call_id}", "webhooks", "stats", "faults"):
        response = requests.get(f"{sandbox.api_base_url}/_sandbox/{path}", headers=sandbox.auth, timeout=10)
        assert SECRET not in response.text
    assert SECRET not in sandbox.output()
