"""Where the start of a call goes: ``hms:timing`` in Chromium against the example app and its sandbox, and
``live`` said no later than the first thing the visitor hears or reads. Orderings and shapes only: how long
each stage takes depends on the machine (benchmarks/call_start.py prints the figures).
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import open_widget, wait_for

pytestmark = pytest.mark.browser

STAGES = {"code", "microphone", "create", "connect", "assistant", "live", "audio", "transcript"}
TIMING_RECORDER = (
    "document.addEventListener('hms:timing', "
    "(e) => window.__hms.push({ type: 'hms:timing', detail: e.detail }))"
)


@pytest.fixture
def app(example_app_factory, widget_built):
    return example_app_factory()


def test_timing_reports_each_stage_once_and_live_comes_first(chromium, app):
    context, widget = open_widget(chromium, f"{app.url}/")
    page = widget.page
    page.evaluate(TIMING_RECORDER)
    widget.part("launcher").click()  # the call code may still be on its way: then `code` is a stage too
    timing = wait_for(lambda: widget.events("timing"), timeout=25, what="hms:timing")

    assert len(timing) == 1, timing
    detail = timing[0]
    assert detail["callId"] == widget.page.evaluate("document.querySelector('hms-webcall#hero-call').callId")
    stages = detail["stages"]
    assert set(stages) <= STAGES, stages
    assert STAGES - {"code"} <= set(stages), stages
    assert all(isinstance(ms, int) and ms >= 0 for ms in stages.values()), stages
    assert stages["microphone"] <= stages["create"] <= stages["connect"] <= stages["live"], stages
    # Live at the latest when the assistant's first words arrive (its transcript is word by word with its
    # audio; the audio stage is the track's first packets, which may be silence before it speaks).
    assert stages["live"] <= stages["transcript"], stages

    # The page learns the call is live before it gets the first transcript line.
    order = [
        "live" if e["type"] == "hms:state" and e["detail"]["state"] == "live" else e["type"]
        for e in page.evaluate("window.__hms")
        if e["type"] == "hms:state" or (e["type"] == "hms:transcript" and e["detail"]["entry"])
    ]
    assert "live" in order and "hms:transcript" in order, order
    assert order.index("live") < order.index("hms:transcript"), order

    widget.part("hangup").click()
    widget.wait_state("ended", timeout=10)
    page.wait_for_timeout(300)
    assert len(widget.events("timing")) == 1, "one hms:timing per call"
    context.close()


def test_a_refused_call_reports_the_stages_it_reached(chromium, example_app_factory, widget_built):
    # The sandbox refuses the create (no credit left): the visitor never gets a call, and the site sees that
    # the microphone was granted and where the start stopped.
    app = example_app_factory(sandbox_args=["--credits-seconds", "0"])
    context, widget = open_widget(chromium, f"{app.url}/")
    widget.page.evaluate(TIMING_RECORDER)
    widget.part("launcher").click()
    widget.wait_state("error", timeout=20)
    timing = wait_for(lambda: widget.events("timing"), timeout=5, what="hms:timing")
    assert len(timing) == 1 and timing[0]["callId"] is None, timing
    assert "microphone" in timing[0]["stages"] and "live" not in timing[0]["stages"], timing
    context.close()


def test_the_next_call_warms_up_the_server_the_last_one_used(chromium, app):
    context, widget = open_widget(chromium, f"{app.url}/")
    page = widget.page
    seen: list[tuple[str, str]] = []  # (what, url) in the order the browser did them
    page.on("request", lambda r: seen.append(("head", r.url)) if r.method == "HEAD" else None)
    page.on("websocket", lambda ws: seen.append(("join", ws.url)))

    # The first call on this site: nothing to warm up, and the server it joins is remembered.
    widget.part("launcher").click()
    widget.wait_state("live", timeout=25)
    server = page.evaluate("localStorage.getItem('hms-webcall:server')")
    assert server and server.startswith("ws://127.0.0.1:"), server
    assert [what for what, _ in seen] == ["join"]  # (the join's URL carries the token: not printed)
    widget.part("hangup").click()
    widget.wait_state("ended", timeout=10)

    # The next one (a later visit): the connection to that server is prepared before the call joins it.
    page.reload()
    page.wait_for_function("(sel) => document.querySelector(sel)?.callId !== undefined", arg=widget.selector)
    seen.clear()
    widget.part("launcher").click()
    widget.wait_state("live", timeout=25)
    origin = server.replace("ws://", "http://", 1).rstrip("/")
    assert [what for what, _ in seen][:2] == ["head", "join"], [what for what, _ in seen]
    assert seen[0][1].rstrip("/") == origin, (seen[0][1], origin)
    context.close()
