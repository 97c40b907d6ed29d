"""The pop-out window takes its call only from the page that opened it, and only from this site's pages.

Its address ({prefix}/call) is public: any site may link to it or open it. What the call is (the consent
text, the context, the assistant's name) comes over postMessage from the opener; the window takes it only
from its opener's page on this origin or an allowed one. The site's own pop-out is in
test_widget_navigation.py; here are an allowed page on another origin and another site's forgery.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.browser.conftest import EVENT_RECORDER, Widget, wait_for
from tests.browser.test_widget_cross_origin import StaticSite
from tests.conftest import free_port

pytestmark = pytest.mark.browser

NOTICE = "This window continues a call started on the site's page."
# Every message the window is sent, recorded once the window's own listeners have had it.
MESSAGE_RECORDER = """
window.__messages = [];
addEventListener('message', (e) => setTimeout(() => __messages.push({origin: e.origin, data: e.data})));
"""
# What another site hands the window: the handover the widget's own page would send, with its own words.
FORGED = {
    "type": "hms-webcall:popout-call",
    "attributes": {
        "consent": "Nothing is recorded, ever.",
        "consent-version": "1",
        "assistant-name": "Bank Support",
        "context": '{"page": "/verify-your-card"}',
        "lang": "en",
    },
}
FORGED_TEXTS = ("Nothing is recorded", "Bank Support", "verify-your-card")


def forging_page(app_url: str) -> str:
    """Another site: opens the pop-out page and answers its question with FORGED."""
    return f"""<!doctype html><html lang="en"><body><h1>Win a prize</h1><button id="go">Claim</button>
<script>
const forged = {json.dumps(FORGED)};
window.__asked = 0;
document.getElementById('go').addEventListener('click', () => {{
  const w = window.open('{app_url}/hms/call', 'hms-webcall-popout', 'popup,width=400,height=640');
  addEventListener('message', (e) => {{
    if (e.source !== w) return;
    __asked++;
    w.postMessage(forged, '*');
  }});
}});
</script></body></html>"""


def embedding_page(app_url: str) -> str:
    """A site on another origin embedding the app's widget with the pop-out on."""
    return f"""<!doctype html><html lang="en"><body><h1>Marketing site</h1>
<hms-webcall id="hero-call" popout assistant-name="Ava" consent="Calls are recorded." consent-version="3">
</hms-webcall>
<script src="{app_url}/hms/widget.js" data-launcher="false" defer></script></body></html>"""


@pytest.fixture
def sites() -> Iterator[list[StaticSite]]:
    started: list[StaticSite] = []
    yield started
    for site in started:
        site.stop()


def page_text(page) -> str:
    """What the visitor can read in the page, the widget's shadow root included, and the window's title."""
    return page.evaluate(
        "() => [document.title, document.body.innerText,"
        " document.querySelector('hms-webcall')?.shadowRoot?.textContent || ''].join('\\n')"
    )


def assert_starts_nothing(popup, app) -> None:
    windowed = Widget(popup, "hms-webcall")
    assert popup.evaluate("document.querySelector('hms-webcall').hidden") is True
    assert windowed.state == "idle" and windowed.events() == []
    assert popup.locator("#hms-webcall-popout-notice").inner_text().startswith(NOTICE)
    text = page_text(popup)
    for forged in FORGED_TEXTS:
        assert forged not in text
    assert app.sandbox_stats()["create_requests"] == 0


def test_a_window_another_site_opens_takes_none_of_its_handover(
    chromium, example_app_factory, widget_built, sites
):
    app = example_app_factory()
    other = StaticSite(free_port(), forging_page(app.url))
    sites.append(other)
    context = chromium.new_context()
    context.add_init_script(EVENT_RECORDER)
    context.add_init_script(MESSAGE_RECORDER)
    creates = []
    context.on("request", lambda r: creates.append(r.url) if r.url.endswith("/web-calls") else None)
    page = context.new_page()
    page.goto(other.url)
    with context.expect_page() as opened:
        page.locator("#go").click()
    popup = opened.value
    assert popup.url == f"{app.url}/hms/call"

    # The window asked its opener (as it asks the site's own page) and got the forgery as the answer.
    wait_for(lambda: page.evaluate("window.__asked") == 1, timeout=15, what="the window to ask its opener")
    wait_for(
        lambda: [m["data"] for m in popup.evaluate("window.__messages")] == [FORGED],
        timeout=15,
        what="the forged handover to reach the window",
    )
    assert_starts_nothing(popup, app)
    assert creates == []

    # Opened with no opener at all (a link, a bookmark): the same page, and nothing starts either.
    bare = context.new_page()
    bare.goto(f"{app.url}/hms/call")
    bare.wait_for_load_state("load")
    wait_for(lambda: bare.evaluate("!!customElements.get('hms-webcall')"), timeout=15, what="the widget")
    assert_starts_nothing(bare, app)
    context.close()


def test_an_allowed_site_on_another_origin_hands_its_call_to_the_window(
    chromium, example_app_factory, widget_built, sites
):
    site_port, app_port = free_port(), free_port()
    site_url, app_url = f"http://127.0.0.1:{site_port}", f"http://127.0.0.1:{app_port}"
    # The window is on the app's own origin, so its create request comes from there: both are listed.
    env = {
        "FLASK_HMS_ALLOWED_ORIGINS": json.dumps([site_url, app_url]),
        "FLASK_HMS_REQUIRE_CONSENT": json.dumps("3"),
        "EXAMPLE_APP_PORT": str(app_port),
    }
    app = example_app_factory(env=env)
    site = StaticSite(site_port, embedding_page(app.url))
    sites.append(site)
    context = chromium.new_context()
    context.add_init_script(EVENT_RECORDER)
    page = context.new_page()
    page.goto(site.url)
    widget = Widget(page)
    widget.part("launcher").click()
    widget.part("consent-check").check()
    widget.part("consent-start").click()
    widget.wait_state("live", "error", timeout=25)
    assert widget.state == "live", widget.events("error")

    with context.expect_page() as opened:
        widget.part("popout").click()
    popup = opened.value
    windowed = Widget(popup, "hms-webcall")
    # The window is on the app's origin: the consent accepted on the site is not remembered there, so the
    # window asks again, with the site's own text.
    wait_for(
        lambda: popup.evaluate("document.querySelector('hms-webcall')?.hidden") is False,
        timeout=15,
        what="the window to take the call",
    )
    assert windowed.part("consent-text").inner_text() == "Calls are recorded."
    windowed.part("consent-check").check()
    windowed.part("consent-start").click()
    # The tab's call frees its slot when HMS reports it ended, a moment after the hand-over: until then the
    # window is refused too_many_calls and tries again (ui.js), so an error on the way is not the answer.
    windowed.poll_state("live", timeout=30)
    assert windowed.part("title").inner_text() == "Ava" and popup.title() == "Ava"
    second_call = popup.evaluate("document.querySelector('hms-webcall').callId")
    [call] = [c for c in app.sandbox_calls() if c["call_id"] == second_call]
    assert call["metadata"].get("consent_version") == "3"
    windowed.part("hangup").click()
    windowed.poll_state("ended")
    context.close()
