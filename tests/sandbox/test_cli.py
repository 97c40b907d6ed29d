"""``python -m flask_hms_webcall.sandbox``, ``config_from_args`` and ``start_in_thread``."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import pytest
import requests

from flask_hms_webcall.sandbox import SandboxConfig, config_from_args, start_in_thread
from flask_hms_webcall.sandbox.config import DEFAULT_API_KEY, DEFAULT_ASSISTANT_ID, build_parser
from tests.conftest import ServerProcess, free_port

MODULE = [sys.executable, "-m", "flask_hms_webcall.sandbox"]


def run_cli(*flags: str) -> subprocess.CompletedProcess:
    return subprocess.run([*MODULE, *flags], capture_output=True, text=True, timeout=60)


def test_the_banner_shows_the_url_key_and_assistant(sandbox):
    out = sandbox.output()

    assert f"API base URL:  {sandbox.api_base_url}" in out
    assert f"API key:       {DEFAULT_API_KEY}" in out
    assert f"Assistant id:  {DEFAULT_ASSISTANT_ID}" in out
    assert f"Media server:  ws://127.0.0.1:{sandbox.port}" in out


def test_custom_key_and_assistant_id_are_used_and_shown(sandbox_factory):
    assistant_id = str(uuid.uuid4())
    sandbox = sandbox_factory("--api-key", "sk_custom_123", "--assistant-id", assistant_id.upper())

    assert "API key:       sk_custom_123" in sandbox.output()
    assert f"Assistant id:  {assistant_id}" in sandbox.output()
    assert sandbox.create_call({"assistant_id": assistant_id}, api_key="sk_custom_123").status_code == 200
    assert sandbox.create_call({"assistant_id": assistant_id}, api_key=DEFAULT_API_KEY).status_code == 401
    old_default = sandbox.create_call({"assistant_id": DEFAULT_ASSISTANT_ID}, api_key="sk_custom_123")
    assert old_default.status_code == 403


def test_saved_assistants_from_a_file(sandbox_factory, tmp_path):
    sales_id = str(uuid.uuid4())
    path = tmp_path / "assistants.json"
    sales = {
        "name": "Sales",
        "first_message": "Welcome to sales!",
        "stt_config": {"provider": "deepgram"},
        "llm_config": {"provider": "openai", "model": "gpt-4.1-mini"},
        "tts_config": {"provider": "elevenlabs", "voice_id": "v"},
        "metadata": {"team": "sales"},
    }
    path.write_text(json.dumps([{"id": sales_id, **sales}]))
    sandbox = sandbox_factory("--assistants", str(path))

    assert sales_id in sandbox.output()
    call_id = sandbox.create_call({"assistant_id": sales_id}).json()["call_id"]
    call = sandbox.call(call_id)
    assert call["assistant"] == sales
    assert call["metadata"] == {"team": "sales"}
    assert sandbox.create_call({"assistant_id": sandbox.assistant_id}).status_code == 200  # default kept


def test_help_lists_every_flag():
    result = run_cli("--help")

    assert result.returncode == 0
    for flag in (
        "--host",
        "--port",
        "--api-key",
        "--assistant-id",
        "--assistants",
        "--webhook-url",
        "--webhook-secret",
        "--credits-seconds",
        "--max-duration",
        "--token-ttl",
        "--unjoined-room-ttl",
        "--script",
        "--agent-join-delay",
        "--loopback-only",
        "--webhook-retries",
        "--webhook-backoff",
        "--webhook-timeout",
    ):
        assert flag in result.stdout
    # What it needs, said where a newcomer looks first.
    assert "Needs the [sandbox] extra: pip install 'flask-hms-webcall[sandbox]'" in " ".join(
        result.stdout.split()
    )
    assert "not installed here" not in result.stdout


def test_every_flag_says_what_it_does():
    silent = [action.option_strings for action in build_parser()._actions if not action.help]
    assert silent == []


@pytest.mark.parametrize("module", ["aiohttp", "numpy"])
def test_help_without_the_extra_says_it_is_missing(module):
    # As if the [sandbox] extra were not installed: --help still works, and says what to install.
    code = (
        f"import runpy, sys; sys.modules[{module!r}] = None; sys.argv = ['x', '--help']; "
        "runpy.run_module('flask_hms_webcall.sandbox', run_name='__main__')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    help_text = " ".join(result.stdout.split())
    assert "pip install 'flask-hms-webcall[sandbox]'" in help_text
    assert f"It is not installed here ({module} is missing): the sandbox will not start." in help_text


@pytest.mark.parametrize(
    ("flags", "mentions"),
    [
        (["--port", "http"], "--port"),
        (["--port", "70000"], "--port"),
        (["--token-ttl", "0"], "--token-ttl"),
        (["--max-duration", "-5"], "--max-duration"),
        (["--credits-seconds", "lots"], "--credits-seconds"),
        (["--agent-join-delay", "soon"], "--agent-join-delay"),
        (["--assistant-id", "assistant-1"], "--assistant-id"),
        (["--webhook-url", "not a url"], "--webhook-url"),
        (["--script", "/nonexistent/script.json"], "--script"),
        (["--assistants", "/nonexistent/assistants.json"], "assistants"),
        (["--api-key", ""], "--api-key"),
        (["--bogus"], "--bogus"),
    ],
)
def test_bad_flags_exit_2_with_a_message(flags, mentions):
    result = run_cli(*flags)

    assert result.returncode == 2
    assert "error:" in result.stderr
    assert mentions in result.stderr
    assert "Traceback" not in result.stderr


def test_a_taken_port_exits_1_with_a_message(sandbox):
    result = run_cli("--port", str(sandbox.port))

    assert result.returncode == 1
    assert "cannot listen" in result.stderr
    assert "Traceback" not in result.stderr


def test_config_from_args_reads_every_flag(tmp_path):
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"lines": ["One.", "Two."], "agent_hangup": False}))
    assistant_id = str(uuid.uuid4())

    config = config_from_args(
        [
            *("--host", "127.0.0.2", "--port", "9999", "--api-key", "sk_x", "--assistant-id", assistant_id),
            *("--webhook-url", "http://127.0.0.1:5000/hms/webhooks", "--webhook-secret", "s"),
            *("--credits-seconds", "12.5", "--max-duration", "30", "--token-ttl", "20"),
            *("--unjoined-room-ttl", "5", "--script", str(script), "--agent-join-delay", "never"),
            *(
                "--loopback-only",
                "--webhook-retries",
                "0",
                "--webhook-backoff",
                "2",
                "--webhook-timeout",
                "3",
            ),
        ]
    )

    assert config == SandboxConfig(
        host="127.0.0.2",
        port=9999,
        api_key="sk_x",
        assistant_id=assistant_id,
        webhook_url="http://127.0.0.1:5000/hms/webhooks",
        webhook_secret="s",
        credits_seconds=12.5,
        max_duration=30,
        token_ttl=20,
        unjoined_room_ttl=5,
        script=config.script,
        agent_join_delay=None,
        loopback_only=True,
        webhook_retries=0,
        webhook_backoff=2,
        webhook_timeout=3,
    )
    assert config.script.lines == ("One.", "Two.")
    assert config.script.agent_hangup is False
    assert config_from_args([]) == SandboxConfig()


def test_config_from_args_raises_instead_of_exiting():
    with pytest.raises(ValueError, match="--max-duration"):
        config_from_args(["--max-duration", "forever"])


def test_start_in_thread_serves_until_stopped():
    handle = start_in_thread(SandboxConfig(port=0))
    try:
        assert handle.api_base_url.startswith("http://127.0.0.1:")
        assert handle.api_base_url != "http://127.0.0.1:0"
        assert handle.server_url == handle.api_base_url.replace("http://", "ws://")
        assert requests.get(f"{handle.api_base_url}/_sandbox/health", timeout=10).json() == {"ok": True}
        created = requests.post(
            f"{handle.api_base_url}/v1/web-calls",
            json={"assistant_id": handle.assistant_id},
            headers={"Authorization": f"Bearer {handle.api_key}"},
            timeout=10,
        )
        assert created.json()["server_url"] == handle.server_url
    finally:
        handle.stop()
    assert not handle.running
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{handle.api_base_url}/_sandbox/health", timeout=2)
    handle.stop()  # a second stop is harmless


def test_start_in_thread_on_a_taken_port_raises(sandbox):
    with pytest.raises(OSError):
        start_in_thread(SandboxConfig(port=sandbox.port))


def test_logs_never_show_the_key_or_tokens_outside_the_banner(sandbox):
    sandbox.create_call(api_key="sk_someone_elses_key")
    token = sandbox.create_call().json()["token"]
    sandbox.calls()
    sandbox.stats()

    banner_end = sandbox.output().index("Press Ctrl+C to stop.")
    logs = sandbox.output()[banner_end:]
    assert "POST /v1/web-calls -> 401" in logs  # the requests are logged...
    assert "POST /v1/web-calls -> 200" in logs
    assert sandbox.api_key not in logs  # ...without any credential
    assert "sk_someone_elses_key" not in logs
    assert token not in logs


def test_sigterm_stops_the_sandbox_cleanly():
    port = free_port()
    process = ServerProcess(
        [*MODULE, "--loopback-only", "--port", str(port)],
        ready_url=f"http://127.0.0.1:{port}/_sandbox/health",
        name="sandbox",
    )
    process.stop()  # SIGTERM

    assert process.proc.returncode == 0
    assert "Traceback" not in process.output()
