"""Every Python and shell snippet of the docs (docs/*.md) and README.md runs, and does what its page says.

Each such code block is preceded by a marker line:

- ``% snippet: NAME`` (``<!-- snippet: NAME -->`` in README.md, which GitHub renders): ``RUNNERS[NAME]`` runs
  the block and checks what the page promises about it;
- ``% not run: REASON`` (``<!-- not run: REASON -->``): shell commands that cannot run here (the package
  index, an HMS account, the project's own ``make`` targets). Kept to a handful, each with its reason.

A block without a marker, or with a name no runner knows, fails the test: a new snippet needs a runner.
Links between pages and to headings are checked by ``make docs`` (Sphinx with -W -n); the external URLs
they contain cannot be fetched offline, so ``test_external_links_are_known`` keeps them to a known list.
"""

from __future__ import annotations

import configparser
import contextlib
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
from flask import Flask, session
from werkzeug.local import LocalProxy

from flask_hms_webcall import HMSWebCall, PageActionCall
from flask_hms_webcall.cli import sample_event, signed_headers
from tests import test_readme_example
from tests.conftest import require

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md")) + [ROOT / "README.md"]
PYTHON = {"python", "py", "pycon"}
SHELL = {"sh", "bash", "shell", "console"}
MARKER = re.compile(r"^(?:%\s*|<!--\s*)(snippet|not run):\s*(.*?)\s*(?:-->)?$")
FENCE = re.compile(r"^(`{3,}|~{3,})\s*([\w+-]*)")
# The shell blocks that may stay unrun. Each needs a reason in its marker; keep this small.
MAX_NOT_RUN = 8

API_KEY = "fl_live_docs_SECRET_7"
ASSISTANT_ID = "17a0cb75-fa09-4bdd-9a44-92a70d829c88"
WEBHOOK_SECRET = "whsec_docs"
HMS_URL = "https://assistant-api.hmsovereign.com/v1/web-calls"
CREATED = {
    "success": True,
    "call_id": "3f2a1b4c-5d6e-7f8a-9b0c-1d2e3f4a5b6c",
    "room_name": "web-3f2a1b4c",
    "token": "jwt-for-the-browser",
    "server_url": "wss://rtc.hmsovereign.com",
}
# Every external URL the docs may contain. None can be fetched from here: a new one is added on purpose.
KNOWN_EXTERNAL = {
    "https://doc.hmsovereign.com",
    "https://flask-login.readthedocs.io/",
    "https://altcha.org",
    "https://blinker.readthedocs.io",
}


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # of the opening fence, 1-based
    lang: str
    code: str
    kind: str | None  # "snippet", "not run" or None (no marker)
    value: str  # the snippet's name, or the reason it is not run

    def __str__(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line} ({self.lang})"


def code_blocks(page: Path) -> list[Block]:
    """The fenced blocks of a Markdown page, each with the marker written just above it (if any)."""
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        fence, lang = opening.group(1), opening.group(2).lower()
        end = i + 1
        while end < len(lines) and not lines[end].startswith(fence):
            end += 1
        # The marker: the comment lines right above the fence (a reason may go on over several lines).
        comments: list[str] = []
        j = i - 1
        while j >= 0 and (lines[j].startswith("%") or lines[j].startswith("<!--")):
            comments.insert(0, lines[j])
            j -= 1
        kind, value = None, ""
        if comments and (found := MARKER.match(comments[0])):
            kind = found.group(1)
            rest = [re.sub(r"^%\s*|^<!--\s*|\s*-->$", "", line) for line in comments[1:]]
            value = " ".join([found.group(2), *rest]).strip()
        blocks.append(Block(page, i + 1, lang, "\n".join(lines[i + 1 : end]) + "\n", kind, value))
        i = end + 1
    return blocks


ALL_BLOCKS = [block for page in PAGES for block in code_blocks(page)]
RUN_BLOCKS = [block for block in ALL_BLOCKS if block.lang in PYTHON | SHELL]


def snippet(name: str) -> Block:
    found = [block for block in RUN_BLOCKS if block.kind == "snippet" and block.value == name]
    assert found, f"no docs snippet named {name!r}"
    return found[0]


# --- Fixtures the snippets run with ------------------------------------------------------------------


def base_app() -> tuple[Flask, HMSWebCall]:
    """An app set up as the quickstart's: the snippets of the integration guide go below it."""
    app = Flask("docs_snippet")
    app.config.update(
        SECRET_KEY="docs-session-key",
        HMS_API_KEY=API_KEY,
        HMS_ASSISTANT_ID=ASSISTANT_ID,
        HMS_WEBHOOK_SECRET=WEBHOOK_SECRET,
    )
    return app, HMSWebCall(app)


def deliver(app: Flask, payload: dict[str, Any], secret: str = WEBHOOK_SECRET) -> Any:
    body = json.dumps(payload).encode()
    headers = signed_headers(secret, payload["message"]["type"], body)
    return app.test_client().post("/hms/webhooks", data=body, headers=headers)


def fake_flask_login(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A stand-in for Flask-Login (not a dependency): ``current_user`` is the signed-in user, else an
    anonymous one, exactly the attributes the snippet uses. Returns the user table, keyed by session id."""
    users: dict[str, Any] = {}
    anonymous = types.SimpleNamespace(is_authenticated=False, get_id=lambda: None)
    module = types.ModuleType("flask_login")
    module.current_user = LocalProxy(lambda: users.get(session.get("_user_id"), anonymous))  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "flask_login", module)
    return users


def run_python(block: Block, namespace: dict[str, Any]) -> dict[str, Any]:
    exec(compile(block.code, str(block), "exec"), namespace)  # noqa: S102 - the docs' own snippet
    return namespace


# --- Runners, one per snippet name -------------------------------------------------------------------


def run_readme_example(block: Block, **_: Any) -> None:
    # tests/test_readme_example.py runs this app against a stubbed HMS and signed webhooks.
    assert block.code == test_readme_example.EXAMPLE, f"{block} differs from test_readme_example.EXAMPLE"


def run_hooks(
    block: Block, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], **_: Any
) -> None:
    users = fake_flask_login(monkeypatch)
    users["ada"] = types.SimpleNamespace(is_authenticated=True, get_id=lambda: "ada", first_name="Ada")
    app, webcall = base_app()
    run_python(block, {"webcall": webcall, "app": app})
    client = app.test_client()

    # Anonymous on the members' page: refused by the before_create hook, HMS is never asked.
    with responses.RequestsMock() as hms:
        refused = client.post("/hms/web-calls", json={"context": {"page": "/members"}})
        assert len(hms.calls) == 0
    assert refused.status_code == 401
    assert refused.json["error"] == {
        "code": "unauthenticated",
        "message": "Calls from this page are for members.",
    }

    # Signed in through "Flask-Login": the identity, the greeting and the extra metadata reach HMS.
    with client.session_transaction() as cookie:
        cookie["_user_id"] = "ada"
    with responses.RequestsMock() as hms:
        hms.post(HMS_URL, json=CREATED)
        created = client.post("/hms/web-calls", json={"context": {"page": "/members"}})
        sent = json.loads(hms.calls[0].request.body)
    assert created.status_code == 201, created.json
    assert sent["assistant_override"]["first_message"] == "Hi Ada!"
    assert sent["assistant_override"]["metadata"]["user_id"] == "ada"
    assert sent["assistant_override"]["metadata"]["plan"] == "pro"

    # The status-update handler and the lookup_order tool answer HMS's webhooks.
    assert deliver(app, sample_event("status-update", CREATED["call_id"])).status_code == 200
    assert capsys.readouterr().out == f"call {CREATED['call_id']} is in-progress\n"
    answered = deliver(app, sample_event("tool-calls", tool="lookup_order", tool_call_id="tc_1"))
    assert answered.status_code == 200
    result = answered.json["results"][0]
    assert result["tool_call_id"] == "tc_1"
    assert json.loads(result["result"]) == {"status": "shipped", "eta": "tomorrow"}
    # What the guide says about a tool nobody registered.
    unknown = deliver(app, sample_event("tool-calls", tool="cancel_order"))
    assert unknown.json["results"][0]["result"] == "Error: the tool 'cancel_order' is not available."


def run_client(block: Block, capsys: pytest.CaptureFixture[str], **_: Any) -> None:
    with responses.RequestsMock() as hms:
        hms.post(HMS_URL, json=CREATED)
        run_python(block, {})
        sent = json.loads(hms.calls[0].request.body)
    assert sent == {"assistant_id": ASSISTANT_ID, "assistant_override": {"first_message": "Hi"}}
    assert (
        capsys.readouterr().out
        == "3f2a1b4c-5d6e-7f8a-9b0c-1d2e3f4a5b6c jwt-for-the-browser wss://rtc.hmsovereign.com\n"
    )

    with responses.RequestsMock() as hms:
        hms.post(HMS_URL, status=402, json={"detail": "Insufficient credits to start web call"})
        run_python(block, {})
    assert capsys.readouterr().out == "HMS refused: 402 Insufficient credits to start web call\n"


def run_page_action(block: Block, **_: Any) -> None:
    app, webcall = base_app()
    order = types.SimpleNamespace(id="1042")
    orders = types.SimpleNamespace(get=lambda order_id, owner=None: order if order_id == "1042" else None)
    run_python(block, {"webcall": webcall, "orders": orders})
    client = app.test_client()
    with responses.RequestsMock() as hms:
        hms.post(HMS_URL, json=CREATED)
        created = client.post("/hms/web-calls", json={}).json
    call_id = CREATED["call_id"]
    stream = client.get(created["actions_url"], buffered=False)  # read once the call has ended

    def show(order_id: str) -> str:
        event = sample_event("tool-calls", call_id, tool="show_order", arguments={"order_id": order_id})
        return str(deliver(app, event).json["results"][0]["result"])

    assert show("1042") == "Here is order 1042."
    assert show("9") == "I cannot find that order."
    deliver(app, sample_event("end-of-call-report", call_id))
    text = stream.get_data(as_text=True)
    assert text.count("event: action") == 1, text
    assert f'{{"name":"show_order","callId":"{call_id}","args":{{"order_id":"1042"}}}}' in text
    assert text.endswith("event: end\ndata: {}\n\n")


def run_target_actions(block: Block, **_: Any) -> None:
    app, webcall = base_app()
    run_python(block, {"webcall": webcall, "PageActionCall": PageActionCall})
    client = app.test_client()
    with responses.RequestsMock() as hms:
        hms.post(HMS_URL, json=CREATED)
        created = client.post("/hms/web-calls", json={}).json
    call_id = CREATED["call_id"]
    stream = client.get(created["actions_url"], buffered=False)  # read once the call has ended

    def send(name: str, arguments: dict[str, str]) -> str:
        event = sample_event("tool-calls", call_id, tool=name, arguments=arguments)
        return str(deliver(app, event).json["results"][0]["result"])

    assert send("fill", {"target": "postcode", "value": "1234 AB"}) == "Done: fill postcode."
    assert send("highlight", {"target": "shipping-form"}) == "Done: highlight shipping-form."
    assert "failed" in send("focus", {"target": "#postcode"})  # not a target name: not sent
    deliver(app, sample_event("end-of-call-report", call_id))
    text = stream.get_data(as_text=True)
    assert text.count("event: action") == 2, text
    assert '"name":"fill"' in text and '"args":{"target":"postcode","value":"1234 AB"}' in text


def run_page_targets(block: Block, **_: Any) -> None:
    app, webcall = base_app()
    run_python(block, {"webcall": webcall})
    webcall.page_action("highlight")(lambda call: ("Shown.", None))  # a site with page actions: a stream
    client = app.test_client()
    with responses.RequestsMock() as hms:
        hms.post(HMS_URL, json=CREATED)
        created = client.post("/hms/web-calls", json={}).json
    call_id = CREATED["call_id"]
    targets = [{"name": "postcode", "label": "Postcode"}]
    url = created["actions_url"].replace("/actions", "/targets")
    assert client.post(url, json={"targets": targets}).status_code == 204
    event = sample_event("tool-calls", call_id, tool="page_targets", arguments={})
    result = deliver(app, event).json["results"][0]["result"]
    assert json.loads(result) == {"targets": targets}


def run_config_keywords(block: Block, **_: Any) -> None:
    namespace = run_python(block, {"__name__": "docs_config"})
    routes = {rule.rule for rule in namespace["app"].url_map.iter_rules()}
    assert "/voice/web-calls" in routes and "/hms/web-calls" not in routes


def run_digits_secret(block: Block, monkeypatch: pytest.MonkeyPatch, **_: Any) -> None:
    monkeypatch.setenv("FLASK_HMS_WEBHOOK_SECRET", "placeholder")  # restored after the test
    app = run_python(block, {"__name__": "docs_digits"})["app"]
    payload = sample_event("status-update")
    assert deliver(app, payload, secret="123456").status_code == 200
    assert deliver(app, payload | {"x": 1}, secret="12345").status_code == 401


def run_cross_origin(block: Block, **_: Any) -> None:
    # The page's snippet sets the config; init_app reads it, so it runs before the extension is made.
    app = Flask("docs_cors")
    app.config.update(
        SECRET_KEY="k", HMS_API_KEY=API_KEY, HMS_ASSISTANT_ID=ASSISTANT_ID, HMS_WEBHOOK_SECRET=WEBHOOK_SECRET
    )
    run_python(block, {"app": app})
    HMSWebCall(app)
    client = app.test_client()
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    allowed = client.options("/hms/web-calls", headers={"Origin": "https://www.example.com", **preflight})
    assert allowed.headers.get("Access-Control-Allow-Origin") == "https://www.example.com"
    assert allowed.headers.get("Access-Control-Allow-Credentials") == "true"
    with responses.RequestsMock() as hms:
        refused = client.post("/hms/web-calls", json={}, headers={"Origin": "https://evil.example.net"})
        assert len(hms.calls) == 0
    assert refused.status_code == 403 and refused.json["error"]["code"] == "forbidden_origin"
    assert app.config["SESSION_COOKIE_SAMESITE"] == "None"


def run_challenge_altcha(block: Block, **_: Any) -> None:
    app = Flask("docs_altcha")
    app.config.update(
        SECRET_KEY="k", HMS_API_KEY=API_KEY, HMS_ASSISTANT_ID=ASSISTANT_ID, HMS_WEBHOOK_SECRET=WEBHOOK_SECRET
    )
    run_python(block, {"app": app})
    HMSWebCall(app)
    client = app.test_client()
    ahead = client.get("/hms/challenge").json
    assert ahead["required"] is True
    assert set(ahead["challenge"]) == {"algorithm", "challenge", "maxnumber", "salt", "signature"}
    with responses.RequestsMock() as hms:
        refused = client.post("/hms/web-calls", json={})
        assert len(hms.calls) == 0
    assert refused.status_code == 401
    assert refused.json["error"]["code"] == "challenge_required"
    assert set(refused.json["error"]["challenge"]) == set(ahead["challenge"])


SITEVERIFY = "https://challenges.cloudflare.com/turnstile/v0/siteverify"


def run_turnstile(block: Block, **_: Any) -> None:
    app, webcall = base_app()
    run_python(block, {"webcall": webcall, "TURNSTILE_SECRET": "ts-secret"})
    client = app.test_client()
    with responses.RequestsMock() as stub:
        stub.post(SITEVERIFY, json={"success": True})
        stub.post(HMS_URL, json=CREATED)
        created = client.post("/hms/web-calls", json={"challenge": "token-from-the-page"})
        verified = stub.calls[0].request.body
    assert created.status_code == 201, created.json
    assert "secret=ts-secret" in verified and "response=token-from-the-page" in verified
    with responses.RequestsMock() as stub:
        stub.post(SITEVERIFY, json={"success": False, "error-codes": ["invalid-input-response"]})
        refused = client.post("/hms/web-calls", json={"challenge": "forged"})
        assert [call.request.url for call in stub.calls] == [SITEVERIFY]  # HMS never asked
    assert refused.status_code == 403 and refused.json["error"]["code"] == "challenge_failed"
    assert client.post("/hms/web-calls", json={}).json["error"]["code"] == "challenge_required"


def run_signals(block: Block, caplog: pytest.LogCaptureFixture, **_: Any) -> None:
    app, _webcall = base_app()
    # Blinker holds receivers weakly: the snippet's namespace (its function's globals) must outlive the
    # deliveries, or a garbage collection in between drops the receiver and the test depends on GC timing.
    namespace = run_python(block, {"app": app})  # noqa: F841 - kept alive on purpose
    caplog.set_level(logging.INFO, logger=app.logger.name)
    with responses.RequestsMock() as hms:
        hms.post(HMS_URL, json=CREATED)
        assert app.test_client().post("/hms/web-calls", json={}).status_code == 201
    report = sample_event("end-of-call-report", CREATED["call_id"])
    report["message"]["duration_seconds"] = 47
    assert deliver(app, report).status_code == 200
    assert f"call {CREATED['call_id']} took 47 s" in caplog.messages


# --- Shell snippets: run by bash in a temporary folder, servers on 127.0.0.1 --------------------------


def shell_env(tmp_path: Path) -> dict[str, str]:
    """The venv's tools first on PATH (``python``, ``flask``), a throwaway HOME, nothing from the caller's
    FLASK_* settings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("FLASK_", "HMS_"))}
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        HOME=str(tmp_path),
        PYTHONUNBUFFERED="1",
    )
    return env


def port_free(port: int) -> bool:
    """Whether a server could listen on ``port`` now. SO_REUSEADDR as the servers set it: the connections of
    the snippet served there just before linger in TIME_WAIT, which a listener may ignore."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@contextlib.contextmanager
def background(script: str, cwd: Path, env: dict[str, str], ready_url: str) -> Iterator[Path]:
    """Run ``script`` (a server) until ``ready_url`` answers; yield its log; stop its whole process group."""
    log = cwd / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            ["bash", "-c", script],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                assert proc.poll() is None, f"exited with {proc.returncode}:\n{log.read_text()}"
                with contextlib.suppress(requests.RequestException):
                    requests.get(ready_url, timeout=1)
                    break
                assert time.monotonic() < deadline, f"{ready_url} never answered:\n{log.read_text()}"
                time.sleep(0.2)
            yield log
        finally:
            stop_group(proc)


def stop_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the script and what it started (bash does not forward it), SIGKILL if that is not enough."""
    with contextlib.suppress(ProcessLookupError):  # the group is gone already
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def run_flask_run(block: Block, tmp_path: Path, **_: Any) -> None:
    """The quickstart's shop: `flask --app shop run` serves the page; then webhooks.md's commands hit it."""
    require(port_free(5000), "port 5000 is taken (run the tests through tests/isolated.sh)")
    (tmp_path / "shop.py").write_text(snippet("readme-example").code)
    env = shell_env(tmp_path)
    with background(block.code, tmp_path, env, "http://127.0.0.1:5000/") as log:
        page = requests.get("http://127.0.0.1:5000/", timeout=5)
        assert '<script src="/hms/widget.js" defer></script>' in page.text
        # The exports of this block are the "same environment" webhooks.md asks for.
        exports = "\n".join(line for line in block.code.splitlines() if line.startswith("export "))
        sent = subprocess.run(
            ["bash", "-ec", exports + "\n" + snippet("send-test-event").code],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert sent.returncode == 0, sent.stdout + sent.stderr
        assert sent.stdout.count("200 OK") == 4, sent.stdout
        assert "Error: the tool 'lookup_order' is not available." in sent.stdout
        # The report reached the shop's save_report handler, verified.
        served = log.read_text()
        assert "call 3f2a1b4c-5d6e-7f8a-9b0c-1d2e3f4a5b6c by usr_8f3a2b1c - " in served, served
        # Started and reached on this machine: no DNS-rebinding warning (that is for a public host name).
        assert "DNS-rebinding" not in served, served


def run_send_test_event(block: Block, **_: Any) -> None:
    # Run by run_flask_run, against the app that block serves.
    assert "send-test-event" in block.code


def run_sandbox_cli(block: Block, tmp_path: Path, **_: Any) -> None:
    require(port_free(7880), "port 7880 is taken (run the tests through tests/isolated.sh)")
    with background(
        block.code, tmp_path, shell_env(tmp_path), "http://127.0.0.1:7880/_sandbox/health"
    ) as log:
        health = requests.get("http://127.0.0.1:7880/_sandbox/health", timeout=5)
        assert health.json() == {"ok": True}
        printed = log.read_text()
    # "On start it prints the API base URL, the API key and the saved assistant's id."
    for shown in ("http://127.0.0.1:7880", "sk_sandbox_local", "5a4db0c5-0000-4000-8000-000000000001"):
        assert shown in printed, printed


def run_page_tool(block: Block, **_: Any) -> None:
    import threading

    app, webcall = base_app()
    run_python(block, {"webcall": webcall})
    client = app.test_client()
    with responses.RequestsMock() as hms:
        hms.post(HMS_URL, json=CREATED)
        created = client.post("/hms/web-calls", json={}).json
    call_id = CREATED["call_id"]
    stream = client.get(created["actions_url"], buffered=False)
    token = created["actions_url"].partition("?token=")[2]
    replies: list[Any] = []
    event = sample_event("tool-calls", call_id, tool="cart_contents", arguments={})
    delivery = threading.Thread(target=lambda: replies.append(deliver(app, event)))
    delivery.start()
    request = next(
        json.loads(chunk.decode().split("data: ", 1)[1]) for chunk in stream.response if b"tool" in chunk
    )
    cart = {"items": [{"name": "teapot", "quantity": 2, "colour": "blue"}]}
    answered = client.post(
        request["answerUrl"], json={"answer": cart}, headers={"X-HMS-Actions-Token": token}
    )
    assert answered.status_code == 204, answered.get_data(as_text=True)
    delivery.join(20)
    assert replies[0].json["results"][0]["result"] == "In your basket: 2 × teapot."
    deliver(app, sample_event("end-of-call-report", call_id))


RUNNERS: dict[str, Callable[..., None]] = {
    "readme-example": run_readme_example,
    "hooks": run_hooks,
    "client": run_client,
    "page-action": run_page_action,
    "page-tool": run_page_tool,
    "target-actions": run_target_actions,
    "page-targets": run_page_targets,
    "config-keywords": run_config_keywords,
    "digits-secret": run_digits_secret,
    "cross-origin": run_cross_origin,
    "challenge-altcha": run_challenge_altcha,
    "turnstile": run_turnstile,
    "signals": run_signals,
    "flask-run": run_flask_run,
    "send-test-event": run_send_test_event,
    "sandbox-cli": run_sandbox_cli,
}


# --- The tests ---------------------------------------------------------------------------------------


def test_every_python_and_shell_block_has_a_marker() -> None:
    unmarked = [str(block) for block in RUN_BLOCKS if block.kind is None]
    assert not unmarked, "add `% snippet: NAME` (and a runner) or `% not run: REASON` above: " + ", ".join(
        unmarked
    )
    unknown = [
        f"{block}: {block.value}"
        for block in RUN_BLOCKS
        if block.kind == "snippet" and block.value not in RUNNERS
    ]
    assert not unknown, "no runner in tests/test_docs_snippets.py for: " + ", ".join(unknown)


def test_only_a_few_shell_blocks_stay_unrun_each_with_its_reason() -> None:
    not_run = [block for block in RUN_BLOCKS if block.kind == "not run"]
    assert all(block.lang in SHELL for block in not_run), "every Python snippet runs"
    assert all(len(block.value) > 20 for block in not_run), "say why it cannot run"
    assert len(not_run) <= MAX_NOT_RUN, [str(block) for block in not_run]


@pytest.mark.parametrize(
    "block",
    [block for block in RUN_BLOCKS if block.kind == "snippet"],
    ids=lambda block: f"{block.value}-{block.page.stem}",
)
def test_snippet(
    block: Block,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    runner = RUNNERS.get(block.value)
    assert runner is not None, f"no runner for {block}"
    runner(block, monkeypatch=monkeypatch, capsys=capsys, caplog=caplog, tmp_path=tmp_path)


def test_external_links_are_known() -> None:
    """External links cannot be fetched offline; each one is here on purpose (and spelled as it was)."""
    found: set[str] = set()
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for pair in re.findall(r"\]\((https?://[^)\s]+)\)|<(https?://[^>\s]+)>", text):
            found.update(url for url in pair if url)
    known = KNOWN_EXTERNAL | set(project_urls().values())
    assert found <= known, f"new external links: {sorted(found - known)}"


def project_urls() -> dict[str, str]:
    """setup.cfg's project_urls: the addresses the package itself publishes."""
    parser = configparser.ConfigParser()
    parser.read(ROOT / "setup.cfg", encoding="utf-8")
    lines = parser.get("metadata", "project_urls", fallback="").strip().splitlines()
    return dict(tuple(part.strip() for part in line.split("=", 1)) for line in lines if "=" in line)


def test_the_readme_points_to_the_published_docs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"<{project_urls()['Documentation']}>" in readme


def test_the_readme_links_every_docs_page() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 150
    for command in ("make demo", "make test"):
        assert command in readme
    linked = set(re.findall(r"\]\(docs/([\w-]+\.md)\)", readme))
    pages = {page.name for page in DOCS.glob("*.md")}
    assert pages <= linked, f"README.md does not link: {sorted(pages - linked)}"
    assert linked <= pages, f"README.md links missing pages: {sorted(linked - pages)}"
    # README.md is not built by Sphinx: its links to headings are checked here, with GitHub's anchors.
    for page, anchor in re.findall(r"\]\(docs/([\w-]+\.md)#([\w-]+)\)", readme):
        headings = re.findall(r"^#+ (.+)$", (DOCS / page).read_text(encoding="utf-8"), flags=re.MULTILINE)
        slugs = {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}
        assert anchor in slugs, f"README.md links docs/{page}#{anchor}, which has no such heading"


def test_the_readme_example_is_the_quickstart_example() -> None:
    readme_blocks = [block for block in code_blocks(ROOT / "README.md") if block.lang == "python"]
    assert any(block.code == test_readme_example.EXAMPLE for block in readme_blocks)
    assert snippet("readme-example").code == test_readme_example.EXAMPLE


# Environment variables of the example app and the test suite, which the docs mention beside the settings.
NOT_SETTINGS = {
    "HMS_SANDBOX_ARGS",
    "HMS_TEST_STRICT",
    "HMS_TEST_NO_NETNS",
    "HMS_TEST_CHROMIUM",
    "HMS_TEST_FIREFOX",
}


def test_every_setting_the_docs_name_exists() -> None:
    """The reference table is generated from OPTIONS; the prose elsewhere must not name a key it lacks."""
    from flask_hms_webcall._config import OPTIONS

    keys = {option.key for option in OPTIONS} | NOT_SETTINGS
    named = {
        f"{page.name}: {key}"
        for page in PAGES
        for key in re.findall(r"\bHMS_[A-Z0-9_]*[A-Z0-9]\b", page.read_text(encoding="utf-8"))
        if key not in keys
    }
    assert not named, f"settings that do not exist: {sorted(named)}"


def test_the_error_table_lists_every_error_code_with_its_status() -> None:
    """browser-contract.md's table against the codes the extension answers with (errors.BROWSER_ERRORS)."""
    from flask_hms_webcall.errors import BROWSER_ERRORS

    page = (DOCS / "browser-contract.md").read_text(encoding="utf-8")
    rows = dict(
        (code, statuses)
        for statuses, code in re.findall(r"^\| ([\d /]+) \| `(\w+)` \|", page, flags=re.MULTILINE)
    )
    webhook_codes = {"invalid_signature", "invalid_payload", "delivery_in_progress", "handler_error"}
    for code, (status, _message) in BROWSER_ERRORS.items():
        if code in webhook_codes:
            assert f"`{code}` ({status})" in page, f"browser-contract.md does not name {code} ({status})"
            continue
        assert code in rows, f"browser-contract.md's error table lacks {code}"
        assert str(status) in rows[code].split(" / "), f"{code} answers {status}, the table says {rows[code]}"
    assert set(rows) <= set(BROWSER_ERRORS), (
        f"codes that do not exist: {sorted(set(rows) - set(BROWSER_ERRORS))}"
    )


def test_every_repository_path_the_docs_name_exists() -> None:
    """Files move (tests split, modules renamed): a path in the docs must still lead somewhere."""
    missing = set()
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for path in re.findall(
            r"`((?:tests|example_app|widget|flask_hms_webcall|benchmarks)/[\w./-]*)`", text
        ):
            generated = path.startswith(("example_app/instance", "tests/artifacts", "widget/build"))
            if not generated and not (ROOT / path).exists():
                missing.add(f"{page.name}: {path}")
    assert not missing, f"paths that do not exist: {sorted(missing)}"
