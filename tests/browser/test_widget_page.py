"""The widget on a page before any call: the floating launcher, attributes, languages, and lazy loading."""

from __future__ import annotations

import pytest

from tests.browser.conftest import open_widget

pytestmark = pytest.mark.browser


def test_floating_launcher_attributes_and_languages(chromium, example_app_factory, widget_built):
    app = example_app_factory()
    # /calls has the script tag without data-launcher="false": the loader mounts a floating launcher.
    context, widget = open_widget(chromium, f"{app.url}/calls", selector="hms-webcall[floating]")
    page = widget.page
    requested = []
    page.on("request", lambda r: requested.append(r.url))
    assert page.locator("hms-webcall").count() == 1
    assert widget.part("launcher").inner_text() == "Talk to AI"
    box = widget.host.bounding_box()
    viewport = page.viewport_size
    assert (
        box["x"] + box["width"] > viewport["width"] - 60
        and box["y"] + box["height"] > viewport["height"] - 60
    )
    # data-theme="light" on the script tag reaches the element.
    assert "light" in widget.part("root").get_attribute("class")

    # Inline elements added later are upgraded, configured by their own attributes, each independent.
    page.evaluate(
        """() => {
          const nl = document.createElement('hms-webcall');
          nl.id = 'nl'; nl.setAttribute('lang', 'nl-BE'); document.body.append(nl);
          const own = document.createElement('hms-webcall');
          own.id = 'own'; own.setAttribute('strings', '{"start": "Bel ons"}');
          own.setAttribute('position', 'top-left'); own.setAttribute('floating', '');
          document.body.append(own);
        }"""
    )
    assert page.locator("#nl").locator('[part~="launcher"]').inner_text() == "Praat met AI"
    assert page.locator("#own").locator('[part~="launcher"]').inner_text() == "Bel ons"
    own_box = page.locator("#own").bounding_box()
    assert own_box["x"] < 60 and own_box["y"] < 60
    assert page.evaluate("document.querySelector('#nl').state") == "idle"
    assert not any("/hms/static/call-" in url for url in requested), "no call code before intent"

    # Keyboard focus is visible on the launcher.
    launcher = page.locator("#nl").locator('[part~="launcher"]')
    launcher.focus()
    outline = launcher.evaluate("(el) => getComputedStyle(el).outlineStyle")
    assert outline != "none"
    context.close()
