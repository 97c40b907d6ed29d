"""Page tools in a real browser: the example app's ``order_on_screen`` is answered by the caller's page from
what it shows (the order highlighted in "Your orders"), when the assistant calls that tool over a signed
``tool-calls`` webhook as the sandbox sends it.

- The page's answer reaches the assistant through the app's function; a page that never answers gives the
  assistant the timeout result, and the webhook is answered (within HMS's 10 s); another visitor's page
  cannot answer for the caller.
- A spoken "which order is on my screen?" makes the sandbox call the tool and say the answer.
- With 4 gunicorn workers and Redis: the delivery, the stream and the page's answer are served by three
  different worker processes (their pids, from gunicorn's access log), and the answer still arrives.

How long the answers took is printed (never asserted: the machine is shared).
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time

import pytest

from tests.browser.conftest import open_widget, wait_for
from tests.browser.test_page_actions import GREETING, GunicornExampleApp, deliver, live_call
from tests.conftest import free_port, require

pytestmark = pytest.mark.browser

TIMEOUT_RESULT = "Error: The page did not answer 'order_on_screen' in time."
# The page's fetches to the answer route: (status, request id) of each, recorded by the page itself.
ANSWER_RECORDER = """
window.__answers = [];
const realFetch = window.fetch;
window.fetch = async (url, init) => {
  const response = await realFetch(url, init);
  if (String(url).includes('/tools/')) window.__answers.push(response.status);
  return response;
};
"""


def asked(call_id: str, tool_call_id: str) -> bytes:
    """The delivery the sandbox sends when its rule calls the page tool (as in sandbox/webhooks.py)."""
    message = {
        "type": "tool-calls",
        "timestamp": "2026-01-01T00:00:00Z",
        "call": {"id": call_id, "type": "web_call", "status": "in-progress"},
        "assistant": {"metadata": {}},
        "tool_call_list": [
            {
                "id": tool_call_id,
                "type": "function",
                "function": {"name": "order_on_screen", "arguments": {}},
            }
        ],
    }
    return json.dumps({"message": message}).encode()


def highlight(widget, order: str) -> None:
    widget.page.evaluate(
        "(id) => document.querySelector(`#orders [data-order=\"${id}\"]`).classList.add('shown')", order
    )


@pytest.mark.engines("chromium", "firefox")
def test_the_page_answers_from_what_it_shows_and_a_silent_page_times_out(
    browser, example_app_factory, widget_built
):
    app = example_app_factory()
    context, widget = live_call(browser, f"{app.url}/")
    call_id = widget.page.evaluate("document.querySelector('#hero-call').callId")

    reply, _ = deliver(app.url, app.webhook_secret, asked(call_id, "tc_1"))
    assert (
        reply.json()["results"][0]["result"]
        == "No order is highlighted on your screen. Ask me to show you one."
    )
    highlight(widget, "456")
    reply, sent = deliver(app.url, app.webhook_secret, asked(call_id, "tc_2"))
    assert reply.status_code == 200, reply.text
    assert reply.json()["results"][0]["result"].startswith("Your screen shows order 456. It is ")
    print(f"the page's answer reached the assistant {time.time() - sent:.2f} s after the webhook was sent")

    # A page whose handler never settles: the assistant hears the timeout result, and HMS gets its answer.
    widget.page.evaluate(
        "() => void document.getElementById('hero-call').tools"
        ".register('order_on_screen', () => new Promise(() => {}))"
    )
    reply, sent = deliver(app.url, app.webhook_secret, asked(call_id, "tc_3"))
    assert reply.status_code == 200 and reply.json()["results"][0]["result"] == TIMEOUT_RESULT
    print(f"the timeout result came {time.time() - sent:.2f} s after the webhook was sent (the tool's: 4 s)")
    widget.part("hangup").click()
    widget.wait_state("ended")
    context.close()


def test_another_visitor_cannot_answer_for_the_caller(chromium, example_app_factory, widget_built):
    app = example_app_factory()
    context, widget = live_call(chromium, f"{app.url}/")
    call_id = widget.page.evaluate("document.querySelector('#hero-call').callId")
    # The caller's page holds the request (its handler never settles) and shows what arrived.
    widget.page.evaluate(
        """() => {
             window.__requests = [];
             document.getElementById('hero-call').tools.register('order_on_screen', (args, request) => {
               window.__requests.push(request);
               return new Promise(() => {});
             });
           }"""
    )
    other, other_widget = open_widget(chromium, f"{app.url}/")
    other_widget.page.add_init_script(ANSWER_RECORDER)

    replies: list = []
    delivery = threading.Thread(
        target=lambda: replies.append(deliver(app.url, app.webhook_secret, asked(call_id, "tc_1"))[0])
    )
    delivery.start()
    [request] = wait_for(lambda: widget.page.evaluate("window.__requests"), timeout=10, what="the request")
    # The other visitor knows the whole answer address (it leaked, say): their answer is refused.
    status = other_widget.page.evaluate(
        """async (url) => {
             const r = await fetch(url, {method: 'POST', headers: {'Content-Type': 'application/json'},
                                         body: JSON.stringify({answer: {order_id: '789'}})});
             return [r.status, (await r.json()).error.code];
           }""",
        request["answerUrl"],
    )
    assert status == [403, "forbidden"]
    delivery.join(20)
    assert replies and replies[0].json()["results"][0]["result"] == TIMEOUT_RESULT
    other.close()
    widget.part("hangup").click()
    widget.wait_state("ended")
    context.close()


def test_a_spoken_question_is_answered_from_the_page(
    launch_chromium, example_app_factory, widget_built, tmp_path
):
    """The example app's sandbox assistant has a rule for "which order is on my screen": it calls
    ``order_on_screen``, the page answers, and the assistant says what the app made of it."""
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
        out.writeframes(
            np.concatenate([quiet, espeak.synthesize("Which order is on my screen?").pcm, quiet]).tobytes()
        )
    browser = launch_chromium(extra=(f"--use-file-for-fake-audio-capture={wav}%noloop",))
    app = example_app_factory()
    context, widget = live_call(browser, f"{app.url}/")
    highlight(widget, "789")  # during the greeting's silence, before the question

    def answered():
        [call] = app.sandbox_calls()
        return [m for m in call["transcript"] if m.get("role") == "tool"]

    [tool] = wait_for(answered, timeout=GREETING + 40, what="the page tool's answer in the transcript")
    assert tool["name"] == "order_on_screen"
    assert tool["content"].startswith("Your screen shows order 789. It is ")
    wait_for(
        lambda: any(
            "order 789" in line["text"] for line in widget.transcript() if line["role"] == "assistant"
        ),
        timeout=30,
        what="the assistant saying the answer",
    )
    context.close()


@pytest.fixture
def four_workers(sandbox_factory, redis_url, tmp_path):
    """The example app under gunicorn with 4 workers on Redis, each request on a connection of its own (as
    from a proxy that does not keep upstream connections): the browser's one kept-alive connection would
    otherwise take every answer to the same worker."""
    port, secret = free_port(), secrets.token_urlsafe(24)
    webhooks = f"--webhook-url=http://127.0.0.1:{port}/hms/webhooks"
    sandbox = sandbox_factory(webhooks, f"--webhook-secret={secret}", "--no-speech")
    app = GunicornExampleApp(port, secret, sandbox, redis_url, tmp_path, extra=("--keep-alive", "0"))
    yield app
    app.process.stop()


def test_with_four_workers_and_redis_delivery_stream_and_answer_on_three_workers(
    chromium, four_workers, widget_built
):
    app = four_workers
    context, widget = live_call(chromium, f"{app.url}/")
    call_id = widget.page.evaluate("document.querySelector('#hero-call').callId")
    highlight(widget, "123")
    tools = rf"/hms/web-calls/{re.escape(call_id)}/tools/order_on_screen\.[\w-]+"
    # Deliveries go on (each answered by the page) until two of them, each with its answer on another
    # worker than its own, used four different workers: then, whichever worker holds the stream (logged
    # only when it ends), one of the two is on two workers that are not the stream's.
    pairs: list[tuple[str, str]] = []
    for n in range(32):
        reply, _ = deliver(app.url, app.secret, asked(call_id, f"tc_{n}"))
        assert reply.json()["results"][0]["result"].startswith("Your screen shows order 123. It is "), (
            reply.text
        )
        webhook_pids, answer_pids = app.pids("POST", r"/hms/webhooks"), app.pids("POST", tools)
        pairs = [(w, a) for w, a in zip(webhook_pids, answer_pids, strict=False) if w != a]
        if any(not set(p) & set(q) for p in pairs for q in pairs):
            break
    widget.part("hangup").click()
    widget.wait_state("ended")
    stream = rf"/hms/web-calls/{re.escape(call_id)}/actions"
    [stream_pid] = wait_for(lambda: app.pids("GET", stream), timeout=20, what="the stream's log line")
    apart = [p for p in pairs if stream_pid not in p]
    assert apart, (stream_pid, pairs)
    print(f"stream on worker {stream_pid}; deliveries and answers on {apart[0]} (and {len(pairs)} pairs)")
    context.close()
