"""A real browser's EventSource against the page-action stream: the signed id of the last action it got is
what it sends back as ``Last-Event-ID`` when its stream drops, so a browser whose connection dropped just
before the end of the call still gets the actions it missed, once, and then ``end``."""

from __future__ import annotations

import pytest

from flask_hms_webcall import PageActionCall
from tests.support import LoopbackServer, make_app, wait_until, webhook
from tests.test_page_actions import ended, tool_call

pytestmark = pytest.mark.browser

FOLLOW = """(url) => {
  window.__got = [];
  const source = new EventSource(url);
  source.addEventListener('action', (e) => window.__got.push(JSON.parse(e.data).args.order_id));
  source.addEventListener('end', () => { window.__got.push('end'); source.close(); });
  source.onerror = () => { if (source.readyState === EventSource.CLOSED) window.__got.push('refused'); };
}"""


def test_a_stream_that_dropped_just_before_the_end_resumes_from_the_browsers_last_event_id(chromium, hms):
    app, webcall = make_app()

    @webcall.page_action("show_order")
    def show_order(call: PageActionCall):
        return "Shown.", {"order_id": call.arguments["order_id"]}

    @app.get("/")
    def page():
        return "<!doctype html><title>shop</title>"

    server = LoopbackServer(app)
    context = chromium.new_context()
    try:
        page = context.new_page()
        page.goto(server.url("/"))
        call = page.evaluate(
            """async () => {
                 await fetch('/sign-in/alice', { method: 'POST' });
                 return (await fetch('/hms/web-calls', { method: 'POST' })).json();
               }"""
        )
        call_id = call["call_id"]
        page.evaluate(FOLLOW, call["actions_url"])
        webhook(app, tool_call(call_id, "show_order", {"order_id": "1"}, tool_call_id="tc_1"))
        wait_until(lambda: page.evaluate("window.__got") == ["1"])

        # The browser's stream drops (pushed out, as the server does past two streams of a call); before its
        # reconnect, a second later, the call sends one more action and ends.
        streams = app.extensions["hms_webcall"].streams
        newer = [streams.enter(call_id), streams.enter(call_id)]
        webhook(app, tool_call(call_id, "show_order", {"order_id": "2"}, tool_call_id="tc_2"))
        webhook(app, ended(call_id))
        for stop in newer:
            streams.leave(call_id, stop)

        wait_until(lambda: page.evaluate("window.__got")[-1] in ("end", "refused"))
        assert page.evaluate("window.__got") == ["1", "2", "end"]
    finally:
        context.close()
        server.stop()
