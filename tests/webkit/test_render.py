"""The element in WebKit before any call: defined, its shadow root and styles, the floating launcher, the
languages, keyboard focus, and the pop-out page opened bare (a link, a bookmark) starting nothing."""

from __future__ import annotations

from tests.webkit.conftest import WEBKIT_MARKS, WebKitWidget, open_widget, tab_to, wait_for

pytestmark = WEBKIT_MARKS

POPOUT_NOTICE = "This window continues a call started on the site's page."


def test_element_shadow_dom_and_styles(launch_webkit, example_app_factory, artifacts_dir):
    app = example_app_factory()
    driver = launch_webkit()
    # /calls has the script tag without data-launcher="false": the loader mounts a floating launcher.
    widget = open_widget(driver, f"{app.url}/calls", selector="hms-webcall[floating]")
    assert widget.js("return el.shadowRoot.mode;") == "open"
    assert widget.js("return el instanceof customElements.get('hms-webcall');")
    assert widget.js("return root.querySelector('[part~=launcher]').innerText.trim();") == "Talk to AI"
    # The shadow root's styles apply: a rounded launcher in the page's accent (the example app sets
    # --hms-accent, which reaches into the shadow root as a custom property does), fixed bottom right.
    launcher = widget.js(
        "const s = getComputedStyle(root.querySelector('[part~=launcher]'));"
        "return [s.backgroundColor, s.borderTopLeftRadius, s.fontWeight];"
    )
    accent = driver.execute_script(
        "const probe = document.body.appendChild(document.createElement('i'));"
        "probe.style.color = getComputedStyle(document.querySelector('hms-webcall'))"
        ".getPropertyValue('--hms-accent');"
        "const color = getComputedStyle(probe).color; probe.remove(); return color;"
    )
    assert accent.startswith("rgb(") and accent != "rgb(0, 0, 0)"
    assert launcher == [accent, "999px", "600"]
    assert widget.js("return getComputedStyle(el).position;") == "fixed"
    box = widget.js("return el.getBoundingClientRect().toJSON();")
    viewport = driver.execute_script("return [innerWidth, innerHeight];")
    assert box["right"] > viewport[0] - 60 and box["bottom"] > viewport[1] - 60
    # The widget's parts are in its shadow root, out of the page's selectors (and styles).
    assert driver.execute_script("return document.querySelectorAll('[part]').length;") == 0
    widget.screenshot(artifacts_dir / "webkit-launcher.png")

    # Elements added later are upgraded, each configured by its own attributes.
    driver.execute_script(
        """const nl = document.createElement('hms-webcall');
        nl.id = 'nl'; nl.setAttribute('lang', 'nl-BE'); nl.setAttribute('theme', 'dark');
        document.body.append(nl);"""
    )
    dutch = WebKitWidget(driver, "#nl")
    assert dutch.js("return root.querySelector('[part~=launcher]').innerText.trim();") == "Praat met AI"
    assert "dark" in dutch.js("return root.querySelector('[part~=root]').className;")
    assert dutch.state == "idle"
    assert not any(
        "/hms/static/call-" in url
        for url in driver.execute_script(
            "return performance.getEntriesByType('resource').map((e) => e.name);"
        )
    ), "no call code before the visitor shows an intent"

    # Keyboard: Tab reaches the launcher, and its focus shows.
    home = open_widget(driver, f"{app.url}/")
    tab_to(home)
    assert home.js("return getComputedStyle(root.querySelector('[part~=launcher]')).outlineStyle;") != "none"
    # Its focus was an intent: the call code is fetched.
    wait_for(
        lambda: any(
            "/hms/static/call-" in url
            for url in driver.execute_script(
                "return performance.getEntriesByType('resource').map((e) => e.name);"
            )
        ),
        what="the call code after the launcher got focus",
    )


def test_popout_page_opened_bare_starts_nothing(launch_webkit, example_app_factory):
    app = example_app_factory()
    driver = launch_webkit()
    driver.get(f"{app.url}/hms/call")
    wait_for(
        lambda: driver.execute_script("return !!customElements.get('hms-webcall');"),
        what="the widget on the pop-out page",
    )
    windowed = WebKitWidget(driver, "hms-webcall")
    notice = driver.execute_script(
        "return document.getElementById('hms-webcall-popout-notice')?.innerText ?? null;"
    )
    assert notice is not None and notice.startswith(POPOUT_NOTICE)
    assert windowed.js("return el.hidden;") is True
    assert windowed.state == "idle"
    assert app.sandbox_stats()["create_requests"] == 0
