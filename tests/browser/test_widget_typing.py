"""Typing into a call against the example app's sandbox: the text field of a live call and "Type instead" for
a visitor whose microphone is denied (in Chromium and Firefox), ``element.sendText()`` from script, and the
length cap.

The typed line goes on LiveKit's ``lk.chat`` topic; the sandbox answers it as a spoken turn (its rules call
the example app's ``lookup_order`` tool) and, like LiveKit's agents, does not echo it: the widget shows it at
once, marked typed, and only once.
"""

from __future__ import annotations

import pytest

from flask_hms_webcall.sandbox.media import espeak, recognizer
from tests.browser.conftest import Widget, open_widget, screenshot_path, wait_for
from tests.browser.test_widget_agent_state import AXE
from tests.browser.test_widget_layout import overflow
from tests.conftest import require

pytestmark = pytest.mark.browser

QUESTION = "Where is my order 123?"
ANSWER = "Order 123 is shipped, and arrives tomorrow."  # the example app's sample order, through the rule
GREETING = "How can I help you today?"


@pytest.fixture
def app(example_app_factory, widget_built):
    require(espeak.available(), "espeakng-loader is not installed (pip install -e .[sandbox-speech])")
    require(recognizer.available(), "pocketsphinx is not installed (pip install -e .[sandbox-speech])")
    return example_app_factory()


def said(widget: Widget, text: str) -> bool:
    return any(e["role"] == "assistant" and e["final"] and text in e["text"] for e in widget.transcript())


def wait_said(widget: Widget, text: str, what: str) -> None:
    wait_for(lambda: said(widget, text), timeout=30, what=f"{what} (transcript: {widget.transcript()})")


def typed_entries(widget: Widget) -> list[dict]:
    """The visitor's typed lines (Chromium's fake microphone beeps: the sandbox may transcribe a beep)."""
    return [e for e in widget.transcript() if e["role"] == "user" and e.get("typed")]


def serious_violations(widget: Widget) -> list[dict]:
    """axe on the widget (it walks the open shadow root; the page around it is not the widget's to fix):
    serious and critical findings."""
    widget.page.add_script_tag(path=str(AXE))
    results = widget.page.evaluate(
        "(sel) => axe.run(document.querySelector(sel), { resultTypes: ['violations'] })", widget.selector
    )
    return [
        {"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.engines("chromium", "firefox")
def test_a_question_typed_in_a_live_call_is_answered_and_shown_once_marked_typed(
    browser, engine, app, artifacts_dir
):
    require(AXE.is_file(), f"axe-core is not installed ({AXE})")
    context, widget = open_widget(browser, f"{app.url}/")
    page = widget.page
    page.set_viewport_size({"width": 320, "height": 800})
    widget.part("launcher").click()
    widget.wait_state("live", timeout=20)
    wait_said(widget, GREETING, "the greeting")

    field = widget.part("text-input")
    assert field.is_visible() and field.get_attribute("aria-label") == "Type a message"
    field.fill(QUESTION)
    field.press("Enter")
    assert field.input_value() == ""  # sent: the field is ready for the next line
    wait_said(widget, ANSWER, "the answer to the typed question")

    # Shown once, as the visitor's, marked typed: in the element's transcript, its event and the panel.
    assert typed_entries(widget) == [
        {"id": typed_entries(widget)[0]["id"], "role": "user", "text": QUESTION, "final": True, "typed": True}
    ]
    events = [e["entry"] for e in widget.events("transcript") if e["entry"] and e["entry"]["role"] == "user"]
    assert [(e["text"], e.get("typed")) for e in events if e["text"] == QUESTION] == [(QUESTION, True)]
    lines = widget.part("entry-typed")
    assert lines.count() == 1 and QUESTION in lines.inner_text() and "typed" in lines.inner_text()

    # Keyboard: the send button follows the field in the tab order and sends too.
    field.fill("Are you a human?")
    field.press("Tab")
    assert page.evaluate(
        "document.querySelector('#hero-call').shadowRoot.activeElement.getAttribute('part')"
    ) == ("text-send")
    page.keyboard.press("Enter")
    wait_said(widget, "there is nobody else here", "the answer to the second typed line")
    assert [e["text"] for e in typed_entries(widget)] == [QUESTION, "Are you a human?"]

    assert not overflow(widget), overflow(widget)
    widget.screenshot(screenshot_path(artifacts_dir, "widget-typing-320", engine))
    assert not serious_violations(widget)
    context.close()


@pytest.mark.engines("chromium", "firefox")
def test_microphone_denied_type_instead_and_the_assistant_answers(launch_browser, engine, app, artifacts_dir):
    require(AXE.is_file(), f"axe-core is not installed ({AXE})")
    browser = launch_browser(microphone="denied")
    context, widget = open_widget(browser, f"{app.url}/", permissions=[])
    page = widget.page
    # A page column 260 px wide, where the error message and its buttons must still fit.
    page.evaluate(
        """() => {
          const col = document.createElement('div');
          col.id = 'narrow';
          col.style.width = '260px';
          document.querySelector('main, body').prepend(col);
          col.append(document.querySelector('#hero-call'));
        }"""
    )
    widget.part("launcher").click()
    widget.wait_state("error")
    assert [e["code"] for e in widget.events("error")] == ["mic_denied"]
    offer = widget.part("type-instead")
    assert offer.is_visible() and offer.inner_text() == "Type instead"
    assert not overflow(widget, "#narrow"), overflow(widget, "#narrow")
    widget.screenshot(screenshot_path(artifacts_dir, "widget-type-instead-260", engine))
    assert not serious_violations(widget)
    assert app.sandbox_stats()["create_requests"] == 0

    offer.click()
    widget.wait_state("live", timeout=20)
    assert app.sandbox_stats()["create_requests"] == 1
    assert page.evaluate("window.__mics.length") == 0  # no microphone was asked for
    assert not widget.part("mute").is_visible()  # nothing to mute
    field = widget.part("text-input")
    # The visitor chose to type: the field has the focus once the call is live.
    page.wait_for_function(
        "() => document.querySelector('#hero-call').shadowRoot.activeElement?.getAttribute('part')"
        " === 'text-input'"
    )
    wait_said(widget, GREETING, "the greeting, heard without a microphone")
    field.fill(QUESTION)
    field.press("Enter")
    wait_said(widget, ANSWER, "the answer to the typed question")
    assert [e["text"] for e in typed_entries(widget)] == [QUESTION]
    assert not overflow(widget, "#narrow"), overflow(widget, "#narrow")
    widget.screenshot(screenshot_path(artifacts_dir, "widget-typing-260", engine))
    widget.part("hangup").click()
    widget.wait_state("ended")
    context.close()


def test_send_text_from_script_the_cap_and_the_attribute_that_hides_the_field(chromium, app, artifacts_dir):
    context, widget = open_widget(chromium, f"{app.url}/")
    page = widget.page
    send = (
        "(text) => document.querySelector('#hero-call').sendText(text)"
        ".then((line) => ({line}), (e) => ({code: e.code, message: e.message}))"
    )
    assert page.evaluate(send, "hello") == {"code": "not_live", "message": "hms-webcall: no call is live"}

    widget.part("launcher").click()
    widget.wait_state("live", timeout=20)
    wait_said(widget, GREETING, "the greeting")
    assert page.evaluate(send, f"  {QUESTION}  ") == {"line": QUESTION}
    wait_said(widget, ANSWER, "the answer to the line sent from script")
    assert page.evaluate(send, "   ")["code"] == "empty"
    assert page.evaluate(send, "x" * 501)["code"] == "too_long"

    # The cap in the panel: a clear message while the line is too long, and nothing is sent.
    field = widget.part("text-input")
    field.fill("x" * 501)
    hint = widget.part("text-hint")
    assert (
        hint.inner_text() == "Too long: at most 500 characters."
        and field.get_attribute("aria-invalid") == "true"
    )
    widget.screenshot(artifacts_dir / "widget-typing-cap.png")
    field.press("Enter")
    page.wait_for_timeout(300)
    assert [e["text"] for e in typed_entries(widget)] == [QUESTION]
    field.press("Backspace")
    assert hint.inner_text() == "" and field.get_attribute("aria-invalid") == "false"

    widget.set(text_input="off")
    assert not field.is_visible()
    widget.part("hangup").click()
    widget.wait_state("ended")
    context.close()
