"""A page action through the deployment of deploy/ (nginx, 2 gunicorn gthread workers, Redis): the stream
passes each event on at once (not held in nginx's buffer), ends with the call, and neither nginx's nor
gunicorn's access log holds the anonymous caller's token."""

from __future__ import annotations

import json
import time

import pytest
import requests

from tests.deploy.test_deployment import report, stack  # noqa: F401 - the module's running deployment

pytestmark = pytest.mark.deploy


def delivery(message_type: str, call_id: str, **fields) -> bytes:
    message = {"type": message_type, "call": {"id": call_id, "type": "web_call"}, **fields}
    return json.dumps({"message": message}).encode()


def read_until(chunks, text: str, seen: str) -> str:
    """Reads the stream until ``text`` has arrived; everything read so far."""
    for chunk in chunks:
        seen += chunk.decode()
        if text in seen:
            return seen
    raise AssertionError(f"the stream ended without {text!r}: {seen!r}")


def logged(read_log, line: str, timeout: float = 10.0) -> str:
    """The log once it holds ``line``: a stream's access line is written when nginx and gunicorn have seen
    it close, a moment after the client let go of it."""
    deadline = time.monotonic() + timeout
    while line not in (text := read_log()):
        if time.monotonic() > deadline:
            raise AssertionError(f"no {line!r} logged within {timeout} s: {text[-2000:]!r}")
        time.sleep(0.1)
    return text


def test_a_page_action_streams_through_nginx_at_once_and_no_log_holds_the_token(stack, capsys):  # noqa: F811
    stack.reset()
    created = stack.create("")  # no visitor header: anonymous, so the stream's address carries a token
    assert created.status_code == 201, created.text
    call_id, url = created.json()["call_id"], created.json()["actions_url"]
    token = url.partition("?token=")[2]
    assert token

    with requests.get(f"{stack.base}{url}", stream=True, verify=str(stack.cert), timeout=30) as stream:
        assert stream.status_code == 200
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        chunks = stream.iter_content(chunk_size=None)
        seen = read_until(chunks, "retry:", "")
        tool_call = {
            "id": "tc_1",
            "type": "function",
            "function": {"name": "show_order", "arguments": {"order_id": "7"}},
        }
        sent = time.monotonic()
        answer = stack.webhook(delivery("tool-calls", call_id, tool_call_list=[tool_call]))
        assert answer.json()["results"][0]["result"] == "Shown."
        seen = read_until(chunks, '"order_id":"7"', seen)
        arrived = time.monotonic() - sent
        stack.webhook(delivery("status-update", call_id, status="ended"))
        seen = read_until(chunks, "event: end", seen)
    report(
        capsys,
        f"\npage action through nginx: in the browser's stream {1000 * arrived:.0f} ms after the webhook",
    )

    path = f"/hms/web-calls/{call_id}/actions"
    assert token not in logged((stack.workdir / "access.log").read_text, path)
    assert token not in logged(lambda: stack.output("gunicorn"), path)
