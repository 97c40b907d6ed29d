"""Page actions in a real browser: the example app's ``show_order`` highlights an order in the page the call
runs in, when the assistant calls that tool over a signed ``tool-calls`` webhook.

- On the example app (one process, memory store): a ``tool-calls`` delivery as the sandbox sends it reaches
  the caller's page; another visitor's browser cannot read that call's actions; a handler that throws is
  reported and the call goes on; with the call in the pop-out window, the tab's page shows the order; a
  spoken "show me order four five six" makes the sandbox call the tool.
- With 4 gunicorn workers and Redis: the webhook and the browser's stream are served by different worker
  processes (their pids, from gunicorn's access log), and the action still arrives.

How long the page took after the webhook was answered is printed (never asserted: the machine is shared).
"""

from __future__ import annotations

import json
import re
import secrets
import sys
import time
from pathlib import Path

import pytest
import requests

from flask_hms_webcall.signature import delivery_headers
from tests.browser.conftest import Widget, open_widget, screenshot_path, wait_for
from tests.conftest import ROOT, ServerProcess, free_port, require

pytestmark = pytest.mark.browser

REQUEST = "Show me order four five six."
GREETING = 12.0  # seconds of silence first: the assistant does not listen while it greets

# When each hms:action and hms:error reached the page, by the page's clock (the test's, on one machine).
ACTION_RECORDER = """
window.__actions = [];
for (const type of ['hms:action', 'hms:error']) {
  document.addEventListener(type, (e) => window.__actions.push({ type, at: Date.now(), detail: e.detail }));
}
"""


def tool_calls(call_id: str, order_id: str, tool_call_id: str) -> bytes:
    """The delivery the sandbox sends when its rule calls the page action (as in sandbox/webhooks.py)."""
    message = {
        "type": "tool-calls",
        "timestamp": "2026-01-01T00:00:00Z",
        "call": {"id": call_id, "type": "web_call", "status": "in-progress"},
        "assistant": {"metadata": {}},
        "tool_call_list": [
            {
                "id": tool_call_id,
                "type": "function",
                "function": {"name": "show_order", "arguments": {"order_id": order_id}},
            }
        ],
    }
    return json.dumps({"message": message}).encode()


def deliver(base_url: str, secret: str, body: bytes) -> tuple[requests.Response, float]:
    """POSTs a signed delivery; the answer, and when (wall clock) it was sent."""
    headers = delivery_headers("tool-calls", body, secret)
    sent = time.time()
    return requests.post(f"{base_url}/hms/webhooks", data=body, headers=headers, timeout=15), sent


def live_call(browser, url: str):
    context, widget = open_widget(browser, url)
    context.add_init_script(ACTION_RECORDER)
    widget.page.reload()
    widget.page.wait_for_function("!!customElements.get('hms-webcall')")
    widget.part("launcher").click()
    widget.wait_state("live", timeout=30)
    return context, widget


def actions(widget, kind: str = "hms:action") -> list[dict]:
    return [a for a in widget.page.evaluate("window.__actions") if a["type"] == kind]


def shown(widget) -> list[str]:
    return widget.page.evaluate(
        "[...document.querySelectorAll('#orders .shown')].map((el) => el.dataset.order)"
    )


@pytest.mark.engines("chromium", "firefox")
def test_the_assistant_shows_an_order_in_the_callers_page_and_nobody_elses(
    browser, engine, example_app_factory, widget_built, artifacts_dir
):
    app = example_app_factory()
    context, widget = live_call(browser, f"{app.url}/")
    call_id = widget.page.evaluate("document.querySelector('#hero-call').callId")

    reply, sent = deliver(app.url, app.webhook_secret, tool_calls(call_id, "456", "tc_1"))
    assert reply.status_code == 200, reply.text
    assert "order 456 on your screen" in reply.json()["results"][0]["result"]
    wait_for(lambda: shown(widget) == ["456"], timeout=10, what="order 456 highlighted")
    [action] = actions(widget)
    assert action["detail"] == {"name": "show_order", "args": {"order_id": "456"}, "callId": call_id}
    print(f"the page action reached the page {action['at'] - 1000 * sent:.0f} ms after the webhook was sent")
    assert widget.page.locator("#order-shown").inner_text() == "The assistant is showing order 456."
    shot = screenshot_path(artifacts_dir, "page-action-show-order", engine)
    widget.page.screenshot(path=str(shot), full_page=True)

    # No such order: the app answers the assistant and sends the page nothing.
    reply, _ = deliver(app.url, app.webhook_secret, tool_calls(call_id, "999", "tc_2"))
    assert "could not find order 999" in reply.json()["results"][0]["result"]

    # Another visitor's browser, on the same site: the first call's actions are not theirs to read.
    other, other_widget = open_widget(browser, f"{app.url}/")
    path = f"/hms/web-calls/{call_id}/actions"
    for query in ("", "?token=" + "A" * 43):
        answer = other_widget.page.evaluate(
            "async (url) => { const r = await fetch(url); return [r.status, await r.json()]; }", path + query
        )
        assert answer[0] == 403 and answer[1]["error"]["code"] == "forbidden", answer
    refused = other_widget.page.evaluate(
        """(url) => new Promise((resolve) => {
             const es = new EventSource(url);
             es.addEventListener('action', () => resolve('got an action'));
             es.onerror = () => resolve(es.readyState === EventSource.CLOSED ? 'closed' : 'retrying');
           })""",
        path,
    )
    assert refused == "closed"
    other.close()

    # A page handler that throws is reported (console and hms:error); the call goes on.
    widget.page.evaluate(
        "() => void document.getElementById('hero-call').actions"
        ".register('show_order', () => { throw new Error('oops'); })"
    )
    deliver(app.url, app.webhook_secret, tool_calls(call_id, "123", "tc_3"))
    [error] = wait_for(lambda: actions(widget, "hms:error"), timeout=10, what="the handler's error reported")
    assert error["detail"]["code"] == "action_failed" and error["detail"]["action"] == "show_order"
    assert len(actions(widget)) == 2 and widget.state == "live"

    widget.part("hangup").click()
    widget.wait_state("ended")
    assert widget.state == "ended"
    context.close()


def test_in_the_popout_window_the_action_reaches_the_page_the_visitor_browses(
    chromium, example_app_factory, widget_built
):
    app = example_app_factory()
    context, widget = open_widget(chromium, f"{app.url}/")
    context.add_init_script(ACTION_RECORDER)
    widget.page.reload()
    widget.page.wait_for_function("!!customElements.get('hms-webcall')")
    widget.set(popout="")
    widget.part("launcher").click()
    widget.wait_state("live", timeout=30)
    with context.expect_page() as opened:
        widget.part("popout").click()
    popup = opened.value
    Widget(popup, "hms-webcall").poll_state("live")
    call_id = popup.evaluate("document.querySelector('hms-webcall').callId")

    # The window's page has no orders and no handler: the order is shown in the tab, the call goes on.
    reply, _ = deliver(app.url, app.webhook_secret, tool_calls(call_id, "789", "tc_1"))
    assert reply.status_code == 200, reply.text
    wait_for(lambda: shown(widget) == ["789"], timeout=10, what="order 789 highlighted in the tab")
    assert [a["detail"]["args"] for a in actions(widget)] == [{"order_id": "789"}]
    assert popup.evaluate("document.querySelector('hms-webcall').state") == "live"
    context.close()


def test_a_spoken_request_makes_the_sandbox_call_the_page_action(
    launch_chromium, example_app_factory, widget_built, tmp_path
):
    """The example app's sandbox assistant has a rule for "show me order ...": it calls ``show_order``."""
    import wave

    import numpy as np

    from flask_hms_webcall.sandbox.media import espeak, recognizer
    from flask_hms_webcall.sandbox.media.audio import SAMPLE_RATE

    require(espeak.available(), "espeakng-loader is not installed (pip install -e .[sandbox-speech])")
    require(recognizer.available(), "pocketsphinx is not installed (pip install -e .[sandbox-speech])")
    wav = tmp_path / "visitor.wav"
    quiet = np.zeros(int(GREETING * SAMPLE_RATE), dtype=np.int16)
    with wave.open(str(wav), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(np.concatenate([quiet, espeak.synthesize(REQUEST).pcm, quiet]).tobytes())
    # %noloop: the file plays once, then the microphone is silent.
    browser = launch_chromium(extra=(f"--use-file-for-fake-audio-capture={wav}%noloop",))
    app = example_app_factory()
    context, widget = live_call(browser, f"{app.url}/")
    wait_for(lambda: shown(widget) == ["456"], timeout=GREETING + 30, what="order 456 highlighted")
    [call] = app.sandbox_calls()
    tool_call = next(m for m in call["transcript"] if m.get("tool_calls"))
    assert tool_call["tool_calls"][0]["function"] == {"name": "show_order", "arguments": {"order_id": "456"}}
    context.close()


# ------------------------------------------------------------------------------- 4 workers and Redis


class GunicornExampleApp:
    """The example app under gunicorn (deploy/gunicorn.conf.py with 4 workers) on Redis, against a sandbox
    process; gunicorn's access log names the worker pid of every request."""

    def __init__(
        self, port: int, secret: str, sandbox, redis_url: str, workdir: Path, extra: tuple[str, ...] = ()
    ) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.secret = secret
        self.access_log = workdir / "access.log"
        env = {
            "FLASK_SECRET_KEY": secrets.token_hex(16),
            "EXAMPLE_APP_INSTANCE": str(workdir),
            "HMS_API_KEY": sandbox.api_key,
            "HMS_API_BASE_URL": sandbox.api_base_url,
            "HMS_ASSISTANT_ID": sandbox.assistant_id,
            "HMS_WEBHOOK_SECRET": self.secret,
            "HMS_STORAGE_URI": redis_url,
        }
        args = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "deploy" / "gunicorn.conf.py")]
        args += ["--bind", f"127.0.0.1:{port}", "--workers", "4", "--access-logfile", str(self.access_log)]
        args += ["--access-logformat", "%(p)s %(m)s %(U)s %(s)s", *extra, "example_app.app:create_app()"]
        self.process = ServerProcess(args, ready_url=f"{self.url}/", env=env, name="gunicorn-example")

    def pids(self, method: str, path_pattern: str) -> list[str]:
        """The worker pid of every logged request of ``method`` to a path matching ``path_pattern``."""
        lines = self.access_log.read_text().splitlines() if self.access_log.exists() else []
        fields = [line.split() for line in lines]
        return [
            f[0].strip("<>")
            for f in fields
            if len(f) >= 3 and f[1] == method and re.fullmatch(path_pattern, f[2])
        ]


@pytest.fixture
def gunicorn_app(sandbox_factory, redis_url, tmp_path):
    try:
        import gunicorn  # noqa: F401
    except ImportError:
        require(False, "gunicorn is not installed (pip install -e .[dev])")
    port, secret = free_port(), secrets.token_urlsafe(24)
    webhooks = f"--webhook-url=http://127.0.0.1:{port}/hms/webhooks"
    sandbox = sandbox_factory(webhooks, f"--webhook-secret={secret}", "--no-speech")
    app = GunicornExampleApp(port, secret, sandbox, redis_url, tmp_path)
    yield app
    app.process.stop()


def test_with_four_workers_and_redis_the_action_crosses_workers(chromium, gunicorn_app, widget_built):
    app = gunicorn_app
    context, widget = live_call(chromium, f"{app.url}/")
    call_id = widget.page.evaluate("document.querySelector('#hero-call').callId")
    stream = rf"/hms/web-calls/{re.escape(call_id)}/actions"
    # The stream's worker is logged only when the stream ends; each webhook's at once. Deliveries go on
    # (each a new tool call, a new action) until two workers have taken one: then at least one of them
    # is not the stream's.
    delivered: list[str] = []
    for n, order in enumerate(["123", "456", "789"] * 4):
        reply, _ = deliver(app.url, app.secret, tool_calls(call_id, order, f"tc_{n}"))
        assert reply.status_code == 200, reply.text
        delivered.append(order)
        wait_for(lambda: len(actions(widget)) == len(delivered), timeout=10, what=f"action {n} in the page")
        if len(set(app.pids("POST", r"/hms/webhooks"))) >= 2:
            break
    assert [a["detail"]["args"]["order_id"] for a in actions(widget)] == delivered
    assert shown(widget) == [delivered[-1]]

    # Hanging up ends the stream; its request is logged with the pid of the worker that served it.
    widget.part("hangup").click()
    widget.wait_state("ended")
    [stream_pid] = wait_for(lambda: app.pids("GET", stream), timeout=20, what="the stream's log line")
    webhook_pids = set(app.pids("POST", r"/hms/webhooks"))
    assert webhook_pids - {stream_pid}, (stream_pid, webhook_pids)
    print(f"stream served by worker {stream_pid}; webhooks by workers {sorted(webhook_pids)}")
    context.close()
