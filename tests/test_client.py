"""HMSClient against a stubbed HMS: the three modes, HMS's own 400 rules checked before sending, every
status mapped to its exception, both error body shapes, timeouts, and the API key never leaking."""

from __future__ import annotations

import json

import pytest
import requests
import responses

from flask_hms_webcall import (
    ConfigurationError,
    HMSAPIError,
    HMSAuthenticationError,
    HMSClient,
    HMSConcurrencyLimitError,
    HMSConnectionError,
    HMSForbiddenError,
    HMSInsufficientCreditsError,
    HMSInvalidRequestError,
    HMSResponseError,
    HMSServerError,
    HMSTimeoutError,
)

API_KEY = "fl_live_client_SECRET_5f1e2d3c"
BASE = "https://assistant-api.hmsovereign.com"
URL = BASE + "/v1/web-calls"
ASSISTANT_ID = "17a0cb75-fa09-4bdd-9a44-92a70d829c88"
SUCCESS = {
    "success": True,
    "call_id": "3f2a1b4c-5d6e-7f8a-9b0c-1d2e3f4a5b6c",
    "room_name": "web-3f2a1b4c",
    "token": "eyJhbGciOiJIUzI1NiJ9.payload.signature",
    "server_url": "wss://rtc.hmsovereign.com",
}
TRANSIENT = {
    "stt_config": {"provider": "deepgram", "model": "nova-3", "language": "en"},
    "llm_config": {"provider": "openai", "model": "gpt-4.1-mini", "messages": []},
    "tts_config": {"provider": "elevenlabs", "voice_id": "v1"},
    "first_message": "Hello!",
}


@pytest.fixture
def hms():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def client():
    return HMSClient(API_KEY)


def sent_body(hms) -> dict:
    return json.loads(hms.calls[-1].request.body)


def assert_no_key(exc: BaseException) -> None:
    for text in (str(exc), repr(exc), str(exc.args), getattr(exc, "detail", "")):
        assert API_KEY not in text
    assert exc.__cause__ is None or API_KEY not in str(exc.__cause__)


def test_reference_mode(hms, client):
    hms.post(URL, json=SUCCESS)
    call = client.create_web_call(assistant_id=ASSISTANT_ID)
    assert (call.call_id, call.room_name, call.token, call.server_url) == (
        SUCCESS["call_id"],
        SUCCESS["room_name"],
        SUCCESS["token"],
        SUCCESS["server_url"],
    )
    request = hms.calls[0].request
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert request.headers["Content-Type"] == "application/json"
    assert sent_body(hms) == {"assistant_id": ASSISTANT_ID}
    assert hms.calls[0].request.req_kwargs["timeout"] == 10


def test_hybrid_mode_passes_metadata_keys_exactly(hms, client):
    hms.post(URL, json=SUCCESS)
    override = {"first_message": "Hi!", "metadata": {"user_id": "usr_1", "UserID": "X", "plan": "pro"}}
    client.create_web_call(assistant_id=ASSISTANT_ID, assistant_override=override)
    assert sent_body(hms) == {"assistant_id": ASSISTANT_ID, "assistant_override": override}


def test_transient_mode(hms, client):
    hms.post(URL, json=SUCCESS)
    client.create_web_call(assistant=TRANSIENT)
    assert sent_body(hms) == {"assistant": TRANSIENT}


def test_base_url_and_timeout_are_configurable(hms):
    hms.post("http://127.0.0.1:7880/v1/web-calls", json=SUCCESS)
    HMSClient(API_KEY, base_url="http://127.0.0.1:7880/", timeout=2.5).create_web_call(
        assistant_id=ASSISTANT_ID
    )
    assert hms.calls[0].request.req_kwargs["timeout"] == 2.5


def test_a_201_answer_is_a_success_too(hms, client):
    hms.post(URL, json=SUCCESS, status=201)
    assert client.create_web_call(assistant_id=ASSISTANT_ID).call_id == SUCCESS["call_id"]


@pytest.mark.parametrize(
    ("kwargs", "detail"),
    [
        ({}, "Must provide assistant_id, assistant, or both"),
        ({"assistant_override": {"first_message": "x"}}, "assistant_override requires assistant_id"),
        (
            {
                "assistant_id": ASSISTANT_ID,
                "assistant": TRANSIENT,
                "assistant_override": {"first_message": "x"},
            },
            "Cannot provide both assistant and assistant_override",
        ),
        (
            {"assistant": {"llm_config": {}, "tts_config": {}}},
            "Transient assistant must provide: stt_config, llm_config, tts_config",
        ),
        (
            {"assistant": TRANSIENT, "assistant_override": {"first_message": "x"}},
            "Cannot provide both assistant and assistant_override",
        ),
        (
            {"assistant_id": ASSISTANT_ID, "assistant": {"first_message": "x"}},
            "Transient assistant must provide: stt_config, llm_config, tts_config",
        ),
        ({"assistant_id": "not-a-uuid"}, "assistant_id must be a UUID"),
        (
            {"assistant_id": ASSISTANT_ID, "assistant_override": {"metadata": "x"}},
            "metadata must be an object",
        ),
        ({"assistant_id": ASSISTANT_ID, "assistant_override": {"x": object()}}, "JSON"),
    ],
)
def test_the_documented_400_rules_are_checked_before_sending(hms, client, kwargs, detail):
    with pytest.raises(HMSInvalidRequestError) as info:
        client.create_web_call(**kwargs)
    assert detail in info.value.detail
    assert info.value.status is None
    assert len(hms.calls) == 0


@pytest.mark.parametrize(
    ("status", "body", "exc_type", "detail"),
    [
        (
            400,
            {"detail": "Must provide assistant_id, assistant, or both"},
            HMSInvalidRequestError,
            "Must provide",
        ),
        (401, {"detail": "Invalid API key"}, HMSAuthenticationError, "Invalid API key"),
        (
            402,
            {"detail": "Insufficient credits to start web call"},
            HMSInsufficientCreditsError,
            "Insufficient",
        ),
        (
            403,
            {"detail": "Assistant not found or does not belong to this organization"},
            HMSForbiddenError,
            "Assistant not found",
        ),
        (
            429,
            {"detail": "Maximum 3 concurrent web calls per organization"},
            HMSConcurrencyLimitError,
            "Maximum 3",
        ),
        (500, {"detail": "Failed to create web call session: boom"}, HMSServerError, "Failed to create"),
        (502, {"detail": "bad gateway"}, HMSServerError, "bad gateway"),
        (503, {"detail": "unavailable"}, HMSServerError, "unavailable"),
        (404, {"detail": "Not Found"}, HMSAPIError, "Not Found"),
    ],
)
def test_every_status_maps_to_its_exception(hms, client, status, body, exc_type, detail):
    hms.post(URL, json=body, status=status)
    with pytest.raises(exc_type) as info:
        client.create_web_call(assistant_id=ASSISTANT_ID)
    assert info.value.status == status
    assert detail in info.value.detail
    assert str(status) in str(info.value)
    assert_no_key(info.value)


@pytest.mark.parametrize(
    ("body", "detail", "code"),
    [
        ({"detail": "Invalid API key"}, "Invalid API key", None),
        (
            {"error": {"code": "unauthorized", "message": "Invalid API key", "type": "auth"}},
            "Invalid API key",
            "unauthorized",
        ),
        (
            {"error": "Unauthorized", "message": "Invalid or missing API key"},
            "Invalid or missing API key",
            "Unauthorized",
        ),
        ({"detail": [{"loc": ["body"], "msg": "field required", "type": "missing"}]}, "field required", None),
        ({"unexpected": True}, "Unauthorized", None),
    ],
)
def test_both_error_body_shapes(hms, client, body, detail, code):
    hms.post(URL, json=body, status=401)
    with pytest.raises(HMSAuthenticationError) as info:
        client.create_web_call(assistant_id=ASSISTANT_ID)
    assert info.value.detail == detail
    assert info.value.code == code


def test_a_non_json_error_body_is_kept_as_text(hms, client):
    hms.post(URL, body="<html><body>502 Bad Gateway</body></html>", status=502, content_type="text/html")
    with pytest.raises(HMSServerError) as info:
        client.create_web_call(assistant_id=ASSISTANT_ID)
    assert "502 Bad Gateway" in info.value.detail


def test_retry_after_of_a_429_is_kept(hms, client):
    hms.post(URL, json={"detail": "Maximum 3 concurrent web calls per organization"}, status=429,
             headers={"Retry-After": "45"})  # fmt: skip
    with pytest.raises(HMSConcurrencyLimitError) as info:
        client.create_web_call(assistant_id=ASSISTANT_ID)
    assert info.value.retry_after == 45


@pytest.mark.parametrize(
    ("raised", "exc_type"),
    [
        (requests.exceptions.ReadTimeout("read timed out"), HMSTimeoutError),
        (requests.exceptions.ConnectTimeout("connect timed out"), HMSTimeoutError),
        (requests.exceptions.ConnectionError("connection refused"), HMSConnectionError),
        (requests.exceptions.SSLError("certificate verify failed"), HMSConnectionError),
        (requests.exceptions.TooManyRedirects("loop"), HMSConnectionError),
    ],
)
def test_network_failures(hms, client, raised, exc_type):
    hms.post(URL, body=raised)
    with pytest.raises(exc_type) as info:
        client.create_web_call(assistant_id=ASSISTANT_ID)
    assert info.value.status is None
    assert_no_key(info.value)


def test_a_timeout_is_enforced_against_a_server_that_never_answers():
    import socket
    import threading

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        accepted = []
        thread = threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True)
        thread.start()
        slow = HMSClient(API_KEY, base_url=f"http://127.0.0.1:{port}", timeout=0.3)
        with pytest.raises(HMSTimeoutError) as info:
            slow.create_web_call(assistant_id=ASSISTANT_ID)
        assert_no_key(info.value)
        thread.join(5)
        for conn, _ in accepted:
            conn.close()


@pytest.mark.parametrize(
    "answer",
    [
        "not json",
        json.dumps([SUCCESS]),
        json.dumps({**SUCCESS, "token": ""}),
        json.dumps({k: v for k, v in SUCCESS.items() if k != "token"}),
        json.dumps({k: v for k, v in SUCCESS.items() if k != "call_id"}),
        json.dumps({**SUCCESS, "server_url": "https://rtc.hmsovereign.com"}),
        json.dumps({**SUCCESS, "server_url": 12}),
    ],
)
def test_an_unusable_success_answer(hms, client, answer):
    hms.post(URL, body=answer, status=200, content_type="application/json")
    with pytest.raises(HMSResponseError):
        client.create_web_call(assistant_id=ASSISTANT_ID)


def test_extra_fields_in_the_answer_are_ignored(hms, client):
    hms.post(URL, json={**SUCCESS, "expires_at": "later", "new_field": {"x": 1}})
    assert client.create_web_call(assistant_id=ASSISTANT_ID).token == SUCCESS["token"]


def test_redirects_are_not_followed(hms, client):
    # Following one would resend the Authorization header somewhere else.
    hms.post(URL, status=307, headers={"Location": "https://elsewhere.example/v1/web-calls"})
    with pytest.raises(HMSServerError, match="redirect"):
        client.create_web_call(assistant_id=ASSISTANT_ID)
    assert len(hms.calls) == 1


def test_the_key_echoed_by_upstream_is_redacted(hms, client):
    hms.post(URL, json={"detail": f"Invalid API key {API_KEY}"}, status=401)
    with pytest.raises(HMSAuthenticationError) as info:
        client.create_web_call(assistant_id=ASSISTANT_ID)
    assert "[redacted]" in info.value.detail
    assert_no_key(info.value)


def test_the_key_is_not_in_reprs(client):
    assert API_KEY not in repr(client)
    assert API_KEY not in str(vars(client).get("base_url"))


def test_the_token_is_not_in_the_web_call_repr(hms, client):
    hms.post(URL, json=SUCCESS)
    call = client.create_web_call(assistant_id=ASSISTANT_ID)
    assert SUCCESS["token"] not in repr(call)


@pytest.mark.parametrize("base_url", ["http://assistant-api.hmsovereign.com", "ftp://x", ""])
def test_insecure_or_broken_base_urls_are_refused(base_url):
    with pytest.raises(ConfigurationError):
        HMSClient(API_KEY, base_url=base_url)


def test_a_key_is_required():
    with pytest.raises(ConfigurationError):
        HMSClient("")
