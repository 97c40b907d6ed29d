"""The built-in page actions aimed at elements the page opted in (data-hms-target), in a real browser: the
example app's highlight, scroll_to, focus and fill page actions, sent over a signed tool-calls webhook while a
call is live, act on opted-in elements only; fill asks the visitor first (Allow / No, by keyboard) unless the
field opts out of asking, and never writes into a password, payment or hidden field.
"""

from __future__ import annotations

import json
import secrets

import pytest
import requests

from flask_hms_webcall.signature import delivery_headers
from tests.browser.conftest import open_widget, wait_for

pytestmark = pytest.mark.browser

RECORDER = """
window.__acts = [];
for (const type of ['hms:action', 'hms:error']) {
  document.addEventListener(type, (e) => window.__acts.push({ type, detail: e.detail }));
}
"""

# Fields the test opts in itself: what a checkout page might have.
FIELDS = """() => {
  const form = document.createElement('form');
  form.id = 'test-fields';
  form.innerHTML = `
    <label>Postcode <input id="postcode" data-hms-target="postcode"></label>
    <label>Password <input id="pw" type="password" data-hms-target="pw"></label>
    <input id="secret" type="hidden" data-hms-target="secret" value="s">
    <label>Card number <input id="card" autocomplete="cc-number" data-hms-target="card"></label>
    <label>Town <input id="town" data-hms-target="town" data-hms-fill="without-asking"></label>
    <label>Notes <input id="notes"></label>
    <div id="far" style="margin: 3000px 0" data-hms-target="far">The end of the page</div>`;
  document.body.append(form);
  window.__inputs = [];
  form.addEventListener('input', (e) => window.__inputs.push(e.target.id));
}"""


def deliver(app, call_id: str, name: str, arguments: dict) -> str:
    message = {
        "type": "tool-calls",
        "timestamp": "2026-01-01T00:00:00Z",
        "call": {"id": call_id, "type": "web_call", "status": "in-progress"},
        "assistant": {"metadata": {}},
        "tool_call_list": [
            {
                "id": "tc_" + secrets.token_hex(4),
                "type": "function",
                "function": {"name": name, "arguments": arguments},
            }
        ],
    }
    body = json.dumps({"message": message}).encode()
    headers = delivery_headers("tool-calls", body, app.webhook_secret)
    reply = requests.post(f"{app.url}/hms/webhooks", data=body, headers=headers, timeout=15)
    assert reply.status_code == 200, reply.text
    return reply.json()["results"][0]["result"]


def acts(widget, kind: str) -> list[dict]:
    return [a["detail"] for a in widget.page.evaluate("window.__acts") if a["type"] == kind]


def refused(widget, count: int) -> list[dict]:
    """Waits for the ``count``-th hms:error; all of them."""
    return wait_for(
        lambda: (errors := acts(widget, "hms:error")) and len(errors) >= count and errors,
        timeout=10,
        what=f"{count} refusals",
    )


def outline(widget, selector: str) -> dict:
    return widget.page.evaluate(
        "(sel) => { const s = getComputedStyle(document.querySelector(sel));"
        " return {style: s.outlineStyle, width: s.outlineWidth, color: s.outlineColor}; }",
        selector,
    )


def value(page, field_id: str) -> str:
    return page.evaluate("(id) => document.getElementById(id).value", field_id)


def said(widget) -> str:
    return widget.page.evaluate(
        "(sel) => document.querySelector(sel).shadowRoot.querySelector('[data-r=said]').textContent",
        widget.selector,
    )


def contrast(rgb: str, against: tuple[int, int, int]) -> float:
    def luminance(channels) -> float:
        def linear(c: float) -> float:
            c /= 255
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

        r, g, b = (linear(c) for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    ring = [int(x) for x in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3]]
    a, b = sorted((luminance(ring), luminance(against)), reverse=True)
    return (a + 0.05) / (b + 0.05)


@pytest.fixture
def live(chromium, example_app_factory, widget_built):
    app = example_app_factory()
    context, widget = open_widget(chromium, f"{app.url}/", init_scripts=(RECORDER,))
    # The page's own CSS says no outline, as loudly as it can: the highlight must show anyway.
    widget.page.add_style_tag(content="[data-hms-target] { outline: none !important; }")
    widget.page.evaluate(FIELDS)
    widget.part("launcher").click()
    widget.wait_state("live", timeout=30)
    call_id = widget.page.evaluate("document.querySelector('#hero-call').callId")
    yield app, widget, lambda name, **arguments: deliver(app, call_id, name, arguments)
    context.close()


def test_highlight_scroll_and_focus_act_on_opted_in_elements_only(live):
    app, widget, send = live
    page = widget.page

    # highlight: a ring that meets contrast on light and dark alike, announced, gone after a few seconds.
    send("highlight", target="orders")
    wait_for(lambda: outline(widget, "#orders-title").get("style") is not None, timeout=5, what="page")
    wait_for(lambda: outline(widget, "[data-hms-target=orders]")["style"] == "solid", timeout=10, what="ring")
    ring = outline(widget, "[data-hms-target=orders]")
    assert ring["width"] == "3px"
    assert contrast(ring["color"], (255, 255, 255)) >= 3 and contrast(ring["color"], (0, 0, 0)) >= 3
    assert said(widget) == "Showing: Your orders"
    wait_for(lambda: outline(widget, "[data-hms-target=orders]")["style"] == "none", timeout=10, what="gone")

    # ...and gone at once on the next action.
    send("highlight", target="orders")
    wait_for(lambda: outline(widget, "[data-hms-target=orders]")["style"] == "solid", timeout=10, what="ring")
    page.evaluate("scrollTo(0, 0)")
    send("scroll_to", target="far")
    assert outline(widget, "[data-hms-target=orders]")["style"] == "none" or wait_for(
        lambda: outline(widget, "[data-hms-target=orders]")["style"] == "none", timeout=2, what="cleared"
    )

    # scroll_to: the element comes into view.
    wait_for(
        lambda: page.evaluate(
            "() => { const r = document.getElementById('far').getBoundingClientRect();"
            " return r.top >= 0 && r.bottom <= innerHeight; }"
        ),
        timeout=10,
        what="scrolled to #far",
    )

    # focus: keyboard focus on the field.
    send("focus", target="postcode")
    wait_for(lambda: page.evaluate("document.activeElement.id") == "postcode", timeout=10, what="focused")

    # Not opted in, or no such target: refused, nothing moves.
    send("focus", target="notes")
    send("highlight", target="nope")
    errors = refused(widget, 2)
    assert [e["code"] for e in errors] == ["action_refused", "action_refused"]
    assert [e["action"] for e in errors] == ["focus", "highlight"]
    assert page.evaluate("document.activeElement.id") == "postcode"
    assert widget.state == "live"


def test_fill_asks_first_and_never_touches_password_payment_or_hidden_fields(live):
    app, widget, send = live
    page = widget.page

    # Asked first: the question in the panel, the safe answer focused; Allow by keyboard writes.
    send("fill", target="postcode", value="1234 AB")
    prompt = widget.part("fill")
    prompt.wait_for(state="visible", timeout=10_000)
    assert prompt.inner_text().startswith("The assistant wants to fill in your postcode")
    assert said(widget) == "The assistant wants to fill in your postcode"
    assert page.evaluate("document.getElementById('postcode').value") == ""
    assert widget.part("fill-no").evaluate("(b) => b.getRootNode().activeElement === b")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    wait_for(lambda: value(page, "postcode") == "1234 AB", timeout=10, what="filled")
    assert page.evaluate("window.__inputs") == ["postcode"]  # as if typed: the page's input listener heard it
    assert prompt.is_hidden()

    # No writes nothing and is reported as refused.
    send("fill", target="postcode", value="9999 ZZ")
    prompt.wait_for(state="visible", timeout=10_000)
    widget.part("fill-no").click()
    [error] = refused(widget, 1)
    assert error["code"] == "action_refused" and error["action"] == "fill"
    assert page.evaluate("document.getElementById('postcode').value") == "1234 AB"

    # A field the page opted out of asking: written at once.
    send("fill", target="town", value="Utrecht")
    wait_for(lambda: value(page, "town") == "Utrecht", timeout=10, what="town")
    assert prompt.is_hidden()

    # Password, hidden and payment fields are refused though opted in, and never asked about.
    for target in ("pw", "secret", "card"):
        send("fill", target=target, value="x")
    errors = refused(widget, 4)
    assert [e["code"] for e in errors[1:]] == ["action_refused"] * 3
    values = page.evaluate("['pw', 'secret', 'card'].map((id) => document.getElementById(id).value)")
    assert values == ["", "s", ""]
    assert prompt.is_hidden()
    assert page.evaluate("window.__inputs") == ["postcode", "town"]
    assert widget.state == "live"


def test_the_site_hears_the_targets_of_the_callers_page_names_and_labels_only(live):
    app, widget, send = live
    widget.page.fill("#postcode", "1234 AB")  # a value the visitor typed: never reported
    send("focus", target="postcode")  # after an action, the page reports its targets again
    widget.page.wait_for_timeout(1500)

    def reported() -> dict:
        return json.loads(send("page_targets"))

    names = ["orders", "name", "postcode", "pw", "secret", "card", "town", "far"]
    targets = wait_for(
        lambda: (got := reported()["targets"]) and [t["name"] for t in got] == names and got,
        timeout=10,
        what=f"the targets {names}",
    )
    by_name = {t["name"]: t["label"] for t in targets}
    assert by_name["orders"] == "Your orders" and by_name["name"] == "name"
    assert (
        by_name["postcode"] == "Postcode"
        and by_name["far"] == "far"
        and by_name["card"] == "Card number"
        and by_name["card"] == "Card number"
    )
    assert "1234 AB" not in json.dumps(targets)
