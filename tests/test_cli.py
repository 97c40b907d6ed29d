"""``flask hms send-test-event``: signs a sample webhook and delivers it to a real running app.

The receiving app runs in a real HTTP server (werkzeug, a thread, a free loopback port), so the command's
request goes through the extension's webhook endpoint exactly as one from HMS would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import pytest
from flask import Flask

from flask_hms_webcall.cli import hms_cli, sample_event
from flask_hms_webcall.events import EndOfCallReport, StatusUpdate, ToolCall, ToolCalls, parse_event
from tests import support
from tests.conftest import ROOT, free_port
from tests.support import ASSISTANT_ID, SECRET, LoopbackServer


def make_app(secret: str | list[str] | None = SECRET, prefix: str = "/hms") -> tuple[Flask, list]:
    """An app using the extension, recording every event its handlers receive."""
    app, webcall = support.make_app(identity=False, HMS_WEBHOOK_SECRET=secret, HMS_URL_PREFIX=prefix)
    received: list = []

    @webcall.on("status-update")
    def on_status(event):
        received.append(event)

    @webcall.on("end-of-call-report")
    def on_report(event):
        received.append(event)

    @webcall.tool("lookup_order")
    def lookup_order(arguments, event):
        received.append(event)
        return {"order_id": arguments.get("order_id"), "status": "shipped"}

    @webcall.tool("check_stock")
    def check_stock(arguments, event):
        received.append(event)
        return {"sku": arguments.get("sku"), "in_stock": 3}

    return app, received


@pytest.fixture
def served() -> Iterator:
    """Starts apps in real HTTP servers; all are stopped at teardown."""
    running: list[LoopbackServer] = []

    def serve(app: Flask) -> LoopbackServer:
        running.append(LoopbackServer(app))
        return running[-1]

    yield serve
    for r in running:
        r.stop()


def send(app: Flask, *args: str):
    result = app.test_cli_runner().invoke(hms_cli, ["send-test-event", *args])
    # Whatever happened, no traceback and never the secret.
    assert "Traceback" not in result.output
    assert SECRET not in result.output
    return result


# ------------------------------------------------------------------------------------------ deliveries


def test_status_update_is_delivered_signed_and_verified(served):
    app, received = make_app()
    server = served(app)
    result = send(app, "status-update", "--url", server.url("/hms/webhooks"), "--call-id", "call-cli-1")
    assert result.exit_code == 0, result.output
    assert f"POST {server.url('/hms/webhooks')}" in result.output
    assert "200" in result.output
    [event] = received
    assert isinstance(event, StatusUpdate)
    assert (event.call_id, event.call_type, event.status) == ("call-cli-1", "web_call", "in-progress")
    assert event.metadata == {"user_id": "demo-user"}


def test_status_update_can_end_the_call(served):
    app, received = make_app()
    server = served(app)
    result = send(app, "status-update", "--status", "ended-with-error", "--url", server.url("/hms/webhooks"))
    assert result.exit_code == 0, result.output
    [event] = received
    assert event.status == "ended-with-error"
    assert event.error
    assert event.is_final


def test_end_of_call_report_is_delivered(served):
    app, received = make_app()
    server = served(app)
    result = send(
        app,
        "end-of-call-report",
        "--url",
        server.url("/hms/webhooks"),
        "--call-id",
        "c-2",
        "--user-id",
        "u-42",
    )
    assert result.exit_code == 0, result.output
    [event] = received
    assert isinstance(event, EndOfCallReport)
    assert event.call_id == "c-2"
    assert event.metadata["user_id"] == "u-42"
    assert event.ended_reason == "user_hangup"
    assert event.duration_seconds and event.summary
    assert len(event.transcript) >= 2
    assert {entry["role"] for entry in event.transcript} == {"user", "assistant"}


def test_tool_calls_reach_the_tool_and_its_result_is_printed(served):
    app, received = make_app()
    server = served(app)
    result = send(
        app, "tool-calls", "--url", server.url("/hms/webhooks"), "--arguments", '{"order_id": "77"}'
    )
    assert result.exit_code == 0, result.output
    [event] = received
    assert isinstance(event, ToolCalls)
    [call] = event.tool_calls
    assert (call.name, call.arguments) == ("lookup_order", {"order_id": "77"})
    body = json.loads(result.output[result.output.index("{") :])
    [answer] = body["results"]
    assert answer["tool_call_id"] == call.id
    assert json.loads(answer["result"]) == {"order_id": "77", "status": "shipped"}


def test_tool_name_can_be_chosen(served):
    app, received = make_app()
    server = served(app)
    result = send(
        app,
        "tool-calls",
        "--tool",
        "check_stock",
        "--arguments",
        '{"sku": "A-1"}',
        "--url",
        server.url("/hms/webhooks"),
    )
    assert result.exit_code == 0, result.output
    [event] = received
    assert event.tool_calls[0] == ToolCall(event.tool_calls[0].id, "check_stock", {"sku": "A-1"})
    assert "in_stock" in result.output


def test_signs_with_the_first_of_several_secrets(served):
    receiver, received = make_app(secret="whsec_new")
    server = served(receiver)
    rotating, _ = make_app(secret=["whsec_new", "whsec_old"])
    assert send(rotating, "status-update", "--url", server.url("/hms/webhooks")).exit_code == 0
    not_first, _ = make_app(secret=["whsec_old", "whsec_new"])
    assert send(not_first, "status-update", "--url", server.url("/hms/webhooks")).exit_code == 1
    assert len(received) == 1


def test_default_url_uses_the_configured_prefix(served, monkeypatch):
    app, received = make_app(prefix="/voice")
    server = served(app)
    monkeypatch.setattr("flask_hms_webcall.cli.DEFAULT_HOST", f"http://127.0.0.1:{server.port}")
    result = send(app, "end-of-call-report")
    assert result.exit_code == 0, result.output
    assert f"POST http://127.0.0.1:{server.port}/voice/webhooks" in result.output
    assert len(received) == 1


def test_the_flask_command_line_finds_the_command_through_the_entry_point(served, tmp_path):
    # A real `flask` process: proves the flask.commands entry point, the app context and the exit status.
    receiver, received = make_app()
    server = served(receiver)
    (tmp_path / "site_app.py").write_text(
        textwrap.dedent(
            f"""
            from flask import Flask
            from flask_hms_webcall import HMSWebCall

            app = Flask(__name__)
            app.config.update(HMS_API_KEY="sk_cli_test", HMS_ASSISTANT_ID="{ASSISTANT_ID}",
                              HMS_WEBHOOK_SECRET="{SECRET}")
            HMSWebCall(app)
            """
        )
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "site_app",
            "hms",
            "send-test-event",
            "status-update",
            "--url",
            server.url("/hms/webhooks"),
            "--call-id",
            "from-flask",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [e.call_id for e in received] == ["from-flask"]


# -------------------------------------------------------------------------------------------- failures


def test_a_signature_the_app_refuses_is_reported_with_a_failing_status(served):
    receiver, received = make_app(secret="whsec_receiver")
    server = served(receiver)
    sender, _ = make_app()
    result = send(sender, "status-update", "--url", server.url("/hms/webhooks"))
    assert result.exit_code == 1
    assert "401" in result.output
    assert received == []


@pytest.mark.filterwarnings("ignore:HMS_WEBHOOK_SECRET .* is not set")
def test_no_secret_configured_is_a_clear_error(served):
    app, _ = make_app(secret=None)
    server = served(app)
    result = send(app, "status-update", "--url", server.url("/hms/webhooks"))
    assert result.exit_code == 1
    assert "no webhook secret" in result.output
    assert "HMS_WEBHOOK_SECRET" in result.output


def test_connection_refused_is_a_clear_error():
    app, _ = make_app()
    url = f"http://127.0.0.1:{free_port()}/hms/webhooks"
    result = send(app, "end-of-call-report", "--url", url)
    assert result.exit_code == 1
    assert "could not connect" in result.output
    assert url in result.output
    # The URL was given: telling the user to pass --url would be no help.
    assert "--url" not in result.output.replace(url, "")


@pytest.mark.parametrize("url", ["not a url", "ftp://127.0.0.1/hms/webhooks", "http://"])
def test_unusable_url_is_a_clear_error(url):
    app, _ = make_app()
    result = send(app, "status-update", "--url", url)
    assert result.exit_code == 1
    assert "Error:" in result.output


@pytest.mark.parametrize(("arguments", "message"), [("{oops", "not valid JSON"), ("[1]", "JSON object")])
def test_bad_tool_arguments_are_refused_before_sending(arguments, message):
    app, _ = make_app()
    result = send(app, "tool-calls", "--arguments", arguments, "--url", f"http://127.0.0.1:{free_port()}/")
    assert result.exit_code == 2
    assert message in result.output


def test_unknown_event_type_is_refused():
    app, _ = make_app()
    result = send(app, "assistant-request")
    assert result.exit_code == 2
    assert "status-update" in result.output


def test_app_without_the_extension_is_a_clear_error():
    app = Flask("bare")
    result = app.test_cli_runner().invoke(hms_cli, ["send-test-event", "status-update"])
    assert result.exit_code == 1
    assert "HMSWebCall(app)" in result.output
    assert "Traceback" not in result.output


# -------------------------------------------------------------------------------------- sample payloads


@pytest.mark.parametrize(
    ("event_type", "cls"),
    [("status-update", StatusUpdate), ("end-of-call-report", EndOfCallReport), ("tool-calls", ToolCalls)],
)
def test_sample_events_parse_into_their_typed_events(event_type, cls):
    payload = sample_event(event_type, "call-9", metadata={"user_id": "u1", "plan": "pro"})
    event = parse_event(json.loads(json.dumps(payload)))
    assert isinstance(event, cls)
    assert (event.call_id, event.call_type) == ("call-9", "web_call")
    assert event.metadata == {"user_id": "u1", "plan": "pro"}


def test_sample_events_get_fresh_call_ids():
    assert (
        sample_event("status-update")["message"]["call"]["id"]
        != sample_event("status-update")["message"]["call"]["id"]
    )


def test_sample_event_refuses_unknown_types():
    with pytest.raises(ValueError):
        sample_event("assistant-request")


@pytest.mark.parametrize("command", [["run"], ["hms", "send-test-event", "status-update"]])
def test_a_configuration_error_ends_the_flask_command_in_one_line(command, tmp_path):
    # The README's app, its API key forgotten: HMSWebCall(app) fails while `flask` imports the module.
    (tmp_path / "shop.py").write_text(
        textwrap.dedent(
            """
            from flask import Flask
            from flask_hms_webcall import HMSWebCall

            app = Flask(__name__)
            app.config.from_prefixed_env()
            HMSWebCall(app)
            """
        )
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith(("FLASK_", "HMS_"))}
    env.update(PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT)]), FLASK_HMS_ASSISTANT_ID=ASSISTANT_ID)
    proc = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "shop", *command],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "Error: HMS_API_KEY (or FLASK_HMS_API_KEY in the environment with app.config.from_prefixed_env()) "
        "is not set (Settings > API Keys in the HMS dashboard)"
    ]
