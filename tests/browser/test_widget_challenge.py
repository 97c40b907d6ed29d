"""The proof-of-work challenge in Chromium: the widget fetches the challenge while the microphone prompt is
up, solves it in a Web Worker, and the call goes live; a refused solution is shown, not swallowed.

The refusals themselves (missing, wrong, expired, replayed on another worker) are checked over HTTP in
tests/test_challenge.py; here the browser's part of the round trip is real.
"""

from __future__ import annotations

import base64
import json

import pytest

from tests.browser.conftest import open_widget, wait_for

pytestmark = pytest.mark.browser


@pytest.fixture
def app(example_app_factory, widget_built):
    return example_app_factory(env={"FLASK_HMS_CHALLENGE": "altcha"})


@pytest.mark.engines("chromium", "firefox")
def test_the_widget_solves_the_challenge_and_the_call_goes_live(browser, app):
    context, widget = open_widget(browser, f"{app.url}/")
    page = widget.page
    requests_seen: list[tuple[str, str]] = []
    page.on("request", lambda r: requests_seen.append((r.method, r.url)))
    widget.part("launcher").click()
    widget.wait_state("live", timeout=30)
    # The challenge was asked for before the create, and the create carried its solution.
    urls = [url for _, url in requests_seen]
    challenge_at = next(i for i, url in enumerate(urls) if url.endswith("/hms/challenge"))
    create_at = next(i for i, url in enumerate(urls) if url.endswith("/hms/web-calls"))
    assert challenge_at < create_at
    bodies = widget.posted("/hms/web-calls")
    assert len(bodies) == 1 and isinstance(bodies[0].get("challenge"), str)
    payload = json.loads(base64.b64decode(bodies[0]["challenge"]))
    assert set(payload) == {"algorithm", "challenge", "number", "salt", "signature"}
    widget.part("hangup").click()
    widget.wait_state("ended", timeout=15)
    context.close()


@pytest.mark.engines("chromium", "firefox")
def test_a_refused_solution_is_shown_to_the_visitor(browser, app):
    context, widget = open_widget(browser, f"{app.url}/")
    page = widget.page

    def corrupt(route, request):
        body = json.loads(request.post_data or "{}")
        body["challenge"] = "bm90IGEgc29sdXRpb24="  # base64 of "not a solution"
        route.continue_(post_data=json.dumps(body))

    page.route("**/hms/web-calls", corrupt)
    widget.part("launcher").click()
    widget.wait_state("error", timeout=30)
    errors = widget.events("error")
    assert errors and errors[-1]["code"] == "challenge_failed"
    assert widget.message()
    wait_for(lambda: widget.live_mic_tracks() == 0, timeout=5, what="the microphone to be released")
    assert app.sandbox_stats()["create_requests"] == 0  # nothing reached HMS
    context.close()
