"""The sandbox's HMS API face, over real HTTP to a real sandbox process: the Web Calls page, row by row."""

from __future__ import annotations

import http.client
import json
import time
import uuid

import jwt
import pytest
import requests

from flask_hms_webcall.sandbox import SandboxConfig, start_in_thread
from flask_hms_webcall.sandbox.tokens import TokenRejected
from tests.fixtures.sandbox import SandboxProcess
from tests.support import wait_until

# The Web Calls page's detail strings, verbatim: the sandbox must answer exactly these.
MUST_PROVIDE = "Must provide assistant_id, assistant, or both"
OVERRIDE_NEEDS_ID = "assistant_override requires assistant_id"
NOT_BOTH = "Cannot provide both assistant and assistant_override"
TRANSIENT_INCOMPLETE = "Transient assistant must provide: stt_config, llm_config, tts_config"
INVALID_KEY = "Invalid API key"
NO_CREDITS = "Insufficient credits to start web call"
NOT_FOUND = "Assistant not found or does not belong to this organization"
TOO_MANY = "Maximum 3 concurrent web calls per organization"

TRANSIENT = {
    "stt_config": {"provider": "deepgram", "model": "nova-3", "language": "en"},
    "llm_config": {
        "provider": "openai",
        "model": "gpt-4.1-mini",
        "messages": [{"role": "system", "content": "You are a helpful assistant."}],
    },
    "tts_config": {"provider": "elevenlabs", "voice_id": "your-voice-id"},
    "first_message": "Hello! How can I help you?",
}


@pytest.fixture(scope="module")
def quiet_sandbox():
    """One sandbox for the tests that never create a call (so they cannot disturb each other)."""
    sandbox = SandboxProcess()
    yield sandbox
    sandbox.stop()


def test_reference_mode_answers_the_documented_body(sandbox):
    asked = int(time.time())
    response = sandbox.create_call({"assistant_id": sandbox.assistant_id})
    answered = time.time()

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"success", "call_id", "room_name", "token", "server_url"}
    assert body["success"] is True
    assert str(uuid.UUID(body["call_id"])) == body["call_id"]
    assert body["room_name"] == f"web-{body['call_id'][:8]}"
    assert body["server_url"] == sandbox.server_url
    assert body["server_url"].startswith("ws://127.0.0.1:")
    claims = jwt.decode(body["token"], options={"verify_signature": False})
    assert claims["video"]["room"] == body["room_name"]
    assert claims["video"]["roomJoin"] is True
    # The page's 5-minute token TTL from when the token was made (nbf is a second before that), made while
    # the request ran: no bound a slow answer can cross (exp - time.time() >= 290 failed after a 10 s wait).
    made = claims["nbf"] + 1
    assert asked <= made <= answered
    assert claims["exp"] - made == 300

    [call] = sandbox.calls()
    assert call["call_id"] == body["call_id"]
    assert call["status"] == "queued"
    assert call["mode"] == "reference"
    assert call["assistant_id"] == sandbox.assistant_id
    assert sandbox.stats() == {"create_requests": 1, "active_calls": 1, "credits_seconds": None}


def test_a_wrong_or_missing_key_is_401_and_not_counted(sandbox):
    bad_headers = [
        {},
        {"Authorization": "Bearer sk_not_the_key"},
        {"Authorization": f"Basic {sandbox.api_key}"},
        {"Authorization": "Bearer"},
        {"Authorization": f"Bearer {sandbox.api_key}x"},
        {"Authorization": sandbox.api_key},
    ]
    for headers in bad_headers:
        response = requests.post(
            f"{sandbox.api_base_url}/v1/web-calls",
            json={"assistant_id": sandbox.assistant_id},
            headers=headers,
            timeout=10,
        )
        assert response.status_code == 401, headers
        assert response.json() == {"detail": INVALID_KEY}

    assert sandbox.stats()["create_requests"] == 0
    assert sandbox.calls() == []


def test_undecodable_key_bytes_are_401_not_500(quiet_sandbox):
    connection = http.client.HTTPConnection("127.0.0.1", quiet_sandbox.port, timeout=10)
    connection.putrequest("POST", "/v1/web-calls")
    connection.putheader("Authorization", b"Bearer \xff\xfe\xc3")
    connection.putheader("Content-Length", "2")
    connection.endheaders(b"{}")
    response = connection.getresponse()

    assert response.status == 401
    assert json.loads(response.read()) == {"detail": INVALID_KEY}


def test_an_oversized_body_is_413(quiet_sandbox):
    response = quiet_sandbox.create_call(b'{"assistant_id": "' + b"x" * (2 * 1024 * 1024) + b'"}')

    assert response.status_code == 413
    assert response.json() == {"detail": "Request body too large"}
    assert quiet_sandbox.calls() == []


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({}, MUST_PROVIDE),
        ({"assistant_id": None, "assistant": None}, MUST_PROVIDE),
        ({"assistant_override": {"first_message": "Hi"}}, OVERRIDE_NEEDS_ID),
        ({"assistant": TRANSIENT, "assistant_override": {"first_message": "Hi"}}, NOT_BOTH),
        ({"assistant_id": "ASSISTANT", "assistant": TRANSIENT, "assistant_override": {}}, NOT_BOTH),
        ({"assistant": {"first_message": "Hi"}}, TRANSIENT_INCOMPLETE),
        ({"assistant": {k: v for k, v in TRANSIENT.items() if k != "tts_config"}}, TRANSIENT_INCOMPLETE),
        ({"assistant": {**TRANSIENT, "llm_config": None}}, TRANSIENT_INCOMPLETE),
    ],
)
def test_the_documented_400_rules(quiet_sandbox, body, detail):
    if body.get("assistant_id") == "ASSISTANT":
        body = {**body, "assistant_id": quiet_sandbox.assistant_id}
    response = quiet_sandbox.create_call(body)

    assert response.status_code == 400
    assert response.json() == {"detail": detail}
    assert quiet_sandbox.calls() == []


@pytest.mark.parametrize(
    ("body", "detail_mentions"),
    [
        (b"not json", "JSON object"),
        (b"", "JSON object"),
        (b"[1, 2]", "JSON object"),
        (b'"assistant_id"', "JSON object"),
        (b'{"assistant_id": NaN}', "JSON object"),
        (b"\xff\xfe{}", "JSON object"),
        (b'{"a":' * 100 + b"1" + b"}" * 100, "nested"),
        ({"assistant_id": 12345}, "assistant_id"),
        ({"assistant_id": "not-a-uuid"}, "assistant_id"),
        ({"assistant_id": ["5a4db0c5-0000-4000-8000-000000000001"]}, "assistant_id"),
        ({"assistant": "inline please"}, "assistant must be an object"),
        ({"assistant_id": "ASSISTANT", "assistant_override": ["first_message"]}, "assistant_override"),
        ({"assistant_id": "ASSISTANT", "assistant_override": {"metadata": "user=1"}}, "metadata"),
        ({"assistant_id": "ASSISTANT", "assistant_override": {"first_message": 7}}, "first_message"),
        ({"assistant_id": "ASSISTANT", "assistant_override": {"webhook_url": "ftp://x"}}, "webhook_url"),
        (
            {"assistant_id": "ASSISTANT", "assistant_override": {"webhook_events": ["call-ended"]}},
            "webhook_events",
        ),
        ({"assistant": {**TRANSIENT, "stt_config": "deepgram"}}, "stt_config"),
        ({"assistant_id": "ASSISTANT", "assistant_override": {"speech_config": "fast"}}, "speech_config"),
        (
            {
                "assistant_id": "ASSISTANT",
                "assistant_override": {"speech_config": {"allow_interruptions": "no"}},
            },
            "speech_config.allow_interruptions must be a boolean",
        ),
    ],
)
def test_malformed_requests_are_400_with_a_detail(quiet_sandbox, body, detail_mentions):
    if isinstance(body, dict) and body.get("assistant_id") == "ASSISTANT":
        body = {**body, "assistant_id": quiet_sandbox.assistant_id}
    before = quiet_sandbox.stats()["create_requests"]

    response = quiet_sandbox.create_call(body)

    assert response.status_code == 400
    detail = response.json()["detail"]
    assert isinstance(detail, str)
    assert detail_mentions in detail
    assert quiet_sandbox.calls() == []
    # Authenticated requests count, whatever their answer.
    assert quiet_sandbox.stats()["create_requests"] == before + 1


@pytest.mark.parametrize("mode", ["reference", "hybrid", "both"])
def test_an_assistant_id_of_another_org_is_403(quiet_sandbox, mode):
    body = {"assistant_id": str(uuid.uuid4())}
    if mode == "hybrid":
        body["assistant_override"] = {"first_message": "Hi"}
    elif mode == "both":
        body["assistant"] = TRANSIENT

    response = quiet_sandbox.create_call(body)

    assert response.status_code == 403
    assert response.json() == {"detail": NOT_FOUND}
    assert quiet_sandbox.calls() == []


def test_other_methods_and_paths_answer_json(quiet_sandbox):
    response = requests.get(
        f"{quiet_sandbox.api_base_url}/v1/web-calls", headers=quiet_sandbox.auth, timeout=10
    )
    assert response.status_code == 405
    assert "detail" in response.json()
    response = requests.get(f"{quiet_sandbox.api_base_url}/v1/nothing", timeout=10)
    assert response.status_code == 404
    assert "detail" in response.json()


def test_no_credits_is_402(sandbox_factory):
    sandbox = sandbox_factory("--credits-seconds", "0")

    response = sandbox.create_call()

    assert response.status_code == 402
    assert response.json() == {"detail": NO_CREDITS}
    assert sandbox.calls() == []
    assert sandbox.stats()["credits_seconds"] == 0


def test_call_time_is_deducted_until_the_balance_is_spent(sandbox_factory):
    sandbox = sandbox_factory("--credits-seconds", "1")
    call_id = sandbox.create_call().json()["call_id"]
    sandbox.join(call_id)
    ended = sandbox.end(call_id)

    assert ended["duration_seconds"] >= 1  # billed per started second
    assert sandbox.stats()["credits_seconds"] <= 0
    response = sandbox.create_call()
    assert response.status_code == 402
    assert response.json() == {"detail": NO_CREDITS}


def test_the_fourth_concurrent_call_is_429_until_one_ends(sandbox):
    call_ids = [sandbox.create_call().json()["call_id"] for _ in range(3)]
    sandbox.join(call_ids[0])

    response = sandbox.create_call()
    assert response.status_code == 429
    assert response.json() == {"detail": TOO_MANY}
    assert sandbox.stats()["active_calls"] == 3

    sandbox.end(call_ids[0])
    assert sandbox.create_call().status_code == 200


def test_an_unjoined_room_is_deleted_and_frees_its_slot(sandbox_factory):
    sandbox = sandbox_factory("--unjoined-room-ttl", "1")
    call_ids = [sandbox.create_call().json()["call_id"] for _ in range(3)]
    sandbox.join(call_ids[0])
    assert sandbox.create_call().status_code == 429

    wait_until(lambda: sandbox.stats()["active_calls"] == 1)

    calls = {c["call_id"]: c for c in sandbox.calls()}
    assert calls[call_ids[0]]["status"] == "in-progress"  # a joined room is not deleted
    for call_id in call_ids[1:]:
        assert calls[call_id]["status"] == "ended"
        assert calls[call_id]["ended_reason"] == "error"
    assert sandbox.create_call().status_code == 200


def test_hybrid_mode_is_a_shallow_merge(sandbox):
    saved = sandbox.call(sandbox.create_call().json()["call_id"])["assistant"]
    override = {
        "first_message": "Custom greeting!",
        "llm_config": {"messages": [{"role": "system", "content": "You are a sales assistant."}]},
        "metadata": {"user_id": "usr_8f3a2b1c", "plan": "pro"},
    }

    response = sandbox.create_call({"assistant_id": sandbox.assistant_id, "assistant_override": override})

    assert response.status_code == 200
    call = sandbox.call(response.json()["call_id"])
    assert call["mode"] == "hybrid"
    assert call["assistant"]["first_message"] == "Custom greeting!"
    # The override's llm_config replaces the saved block whole: the saved model is gone.
    assert call["assistant"]["llm_config"] == override["llm_config"]
    assert "model" in saved["llm_config"]
    assert call["assistant"]["stt_config"] == saved["stt_config"]
    assert call["assistant"]["tts_config"] == saved["tts_config"]
    assert call["metadata"] == override["metadata"]


def test_transient_mode_runs_the_inline_config(sandbox):
    assistant = {**TRANSIENT, "metadata": {"UserID": "u-7"}, "custom_field": {"kept": True}}

    response = sandbox.create_call({"assistant": assistant})

    assert response.status_code == 200
    call = sandbox.call(response.json()["call_id"])
    assert call["mode"] == "transient"
    assert call["assistant_id"] is None
    assert call["assistant"] == assistant
    assert call["metadata"] == {"UserID": "u-7"}


def test_assistant_id_and_inline_assistant_together(sandbox):
    response = sandbox.create_call({"assistant_id": sandbox.assistant_id, "assistant": TRANSIENT})

    assert response.status_code == 200
    call = sandbox.call(response.json()["call_id"])
    assert call["mode"] == "transient"
    assert call["assistant_id"] == sandbox.assistant_id
    assert call["assistant"] == TRANSIENT


def test_a_failing_session_is_500_and_takes_no_slot(sandbox):
    sandbox.faults(fail_next_creates=1)
    # Requests refused earlier do not use the fault up.
    assert sandbox.create_call(api_key="wrong").status_code == 401
    assert sandbox.create_call({}).status_code == 400

    response = sandbox.create_call()

    assert response.status_code == 500
    assert response.json()["detail"].startswith("Failed to create web call session: ")
    assert sandbox.stats()["active_calls"] == 0
    assert sandbox.calls() == []
    assert sandbox.create_call().status_code == 200


def test_join_tokens_expire_after_the_token_ttl():
    with start_in_thread(SandboxConfig(port=0, token_ttl=1)) as handle:
        response = requests.post(
            f"{handle.api_base_url}/v1/web-calls",
            json={"assistant_id": handle.assistant_id},
            headers={"Authorization": f"Bearer {handle.api_key}"},
            timeout=10,
        )
        body = response.json()
        tokens = handle.app["tokens"]

        assert tokens.verify(body["token"]).room == body["room_name"]
        time.sleep(1.5)
        with pytest.raises(TokenRejected, match="expired"):
            tokens.verify(body["token"])


def test_the_expire_next_tokens_fault_issues_expired_tokens():
    with start_in_thread(SandboxConfig(port=0)) as handle:
        auth = {"Authorization": f"Bearer {handle.api_key}"}
        url = f"{handle.api_base_url}/v1/web-calls"
        armed = requests.post(
            f"{handle.api_base_url}/_sandbox/faults", json={"expire_next_tokens": 1}, headers=auth, timeout=10
        )
        assert armed.json()["expire_next_tokens"] == 1

        first = requests.post(
            url, json={"assistant_id": handle.assistant_id}, headers=auth, timeout=10
        ).json()
        second = requests.post(
            url, json={"assistant_id": handle.assistant_id}, headers=auth, timeout=10
        ).json()

        with pytest.raises(TokenRejected, match="expired"):
            handle.app["tokens"].verify(first["token"])
        assert handle.app["tokens"].verify(second["token"]).room == second["room_name"]


def test_control_routes_need_the_key_except_health(quiet_sandbox):
    base = f"{quiet_sandbox.api_base_url}/_sandbox"
    assert requests.get(f"{base}/health", timeout=10).json() == {"ok": True}
    for method, path in [("GET", "calls"), ("GET", "stats"), ("POST", "faults"), ("GET", "webhooks")]:
        response = requests.request(
            method, f"{base}/{path}", headers={"Authorization": "Bearer no"}, timeout=10
        )
        assert response.status_code == 401
        assert response.json() == {"detail": INVALID_KEY}


@pytest.mark.parametrize(
    "change",
    [
        {"expire_next_tokens": -1},
        {"fail_next_creates": "2"},
        {"fail_next_creates": True},
        {"agent_join_delay": "never"},
        {"agent_join_delay": -3},
        {"agent_state": "off"},
        {"break_everything": 1},
        ["expire_next_tokens"],
    ],
)
def test_invalid_faults_are_400_and_change_nothing(quiet_sandbox, change):
    before = requests.get(
        f"{quiet_sandbox.api_base_url}/_sandbox/faults", headers=quiet_sandbox.auth, timeout=10
    ).json()

    response = requests.post(
        f"{quiet_sandbox.api_base_url}/_sandbox/faults", json=change, headers=quiet_sandbox.auth, timeout=10
    )

    assert response.status_code == 400
    assert isinstance(response.json()["detail"], str)
    after = requests.get(
        f"{quiet_sandbox.api_base_url}/_sandbox/faults", headers=quiet_sandbox.auth, timeout=10
    ).json()
    assert after == before


def test_faults_accept_partial_updates(sandbox):
    assert sandbox.faults(agent_join_delay=None) == {
        "expire_next_tokens": 0,
        "fail_next_creates": 0,
        "agent_join_delay": None,
        "agent_state": True,
    }
    assert sandbox.faults(fail_next_creates=2)["agent_join_delay"] is None
    assert sandbox.faults(agent_state=False)["agent_state"] is False


def test_simulated_join_and_end(sandbox):
    call_id = sandbox.create_call().json()["call_id"]
    control = f"{sandbox.api_base_url}/_sandbox/calls"

    joined = sandbox.join(call_id)
    assert joined["status"] == "in-progress"
    assert joined["transcript"][0]["role"] == "assistant"  # the simulated greeting
    again = requests.post(f"{control}/{call_id}/join", headers=sandbox.auth, timeout=10)
    assert again.status_code == 409

    bad = requests.post(
        f"{control}/{call_id}/end", json={"reason": "bored"}, headers=sandbox.auth, timeout=10
    )
    assert bad.status_code == 400
    ended = sandbox.end(call_id, "agent_hangup", messages=[{"role": "user", "content": "Bye"}])
    assert ended["status"] == "ended"
    assert ended["ended_reason"] == "agent_hangup"
    assert ended["transcript"][-1] == {"role": "user", "content": "Bye"}
    again = requests.post(f"{control}/{call_id}/end", json={}, headers=sandbox.auth, timeout=10)
    assert again.status_code == 409
    assert sandbox.stats()["active_calls"] == 0

    missing = requests.post(f"{control}/{uuid.uuid4()}/join", headers=sandbox.auth, timeout=10)
    assert missing.status_code == 404
    assert "detail" in missing.json()


def test_max_duration_ends_a_joined_call(sandbox_factory):
    sandbox = sandbox_factory("--max-duration", "1")
    call_id = sandbox.create_call().json()["call_id"]
    sandbox.join(call_id)

    [call] = wait_until(lambda: [c for c in sandbox.calls() if c["status"] == "ended"], timeout=5)

    assert call["call_id"] == call_id
    assert call["ended_reason"] == "max_duration"
