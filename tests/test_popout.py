"""The pop-out window's page: the widget alone, with an allowlist of attributes from the address."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from flask_hms_webcall._popout import POPOUT_ATTRIBUTES, popout_page

ROOT_JS = "widget/src/popout.js"


class _Page(HTMLParser):
    """The page's elements as (tag, attributes), and whether any script or style is inline."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.inline: list[str] = []
        self._open: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        self._open = tag
        if any(name.startswith("on") for name, _ in attrs) or any(name == "style" for name, _ in attrs):
            self.inline.append(f"{tag} attribute")

    def handle_data(self, data: str) -> None:
        if self._open in ("script", "style") and data.strip():
            self.inline.append(self._open)

    def handle_endtag(self, tag: str) -> None:
        self._open = None

    def one(self, tag: str) -> dict[str, str | None]:
        found = [attrs for name, attrs in self.elements if name == tag]
        assert len(found) == 1, f"{len(found)} <{tag}>"
        return found[0]


def parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def test_the_page_hosts_the_widget_which_starts_itself():
    page = parse(popout_page("/hms", {"lang": "nl", "assistant": "sales", "consent-version": "2"}))
    script = page.one("script")
    assert script["src"] == "/hms/widget.js"
    assert script["data-launcher"] == "false"  # no floating launcher next to the widget
    widget = page.one("hms-webcall")
    assert "autostart" in widget and "popout-window" in widget
    assert widget["lang"] == "nl" and widget["assistant"] == "sales" and widget["consent-version"] == "2"
    assert page.one("html")["lang"] == "nl"


def test_no_inline_script_or_style_so_a_strict_csp_holds():
    html = popout_page("/hms", {"consent": "Recorded.", "context": '{"page": "/pricing"}'})
    assert parse(html).inline == []


def test_only_allowlisted_attributes_are_taken():
    query = {name: "x" for name in POPOUT_ATTRIBUTES}
    query |= {
        "endpoint": "https://evil.example/",
        "credentials": "include",
        "csrf-token": "secret",
        "onload": "x",
    }
    widget = parse(popout_page("/hms", query)).one("hms-webcall")
    for name in ("endpoint", "credentials", "csrf-token", "onload"):
        assert name not in widget
    assert set(POPOUT_ATTRIBUTES) <= set(widget)


def test_values_are_escaped():
    nasty = '"><script>alert(1)</script><hms-webcall endpoint="https://evil.example/'
    html = popout_page("/hms", {"consent": nasty, "assistant-name": "</title><script>x</script>"})
    page = parse(html)
    assert page.inline == []
    assert [tag for tag, _ in page.elements].count("script") == 1
    assert page.one("hms-webcall")["consent"] == nasty  # the visitor still reads the text as written
    assert "endpoint" not in page.one("hms-webcall")


def test_odd_values_are_dropped_not_passed_on():
    page = parse(popout_page("/hms", {"lang": "en\"'><", "context": "x" * 5000, "label": "a\x00b"}))
    widget = page.one("hms-webcall")
    assert "context" not in widget and "label" not in widget
    assert page.one("html")["lang"] == "en"  # an invalid language tag does not reach <html lang>


def test_prefix_variants():
    assert parse(popout_page("", {})).one("script")["src"] == "/widget.js"
    assert parse(popout_page("/voice/", {})).one("script")["src"] == "/voice/widget.js"


def test_the_allowlist_matches_the_widget():
    from tests.conftest import ROOT

    source = (ROOT / ROOT_JS).read_text()
    block = re.search(r"POPOUT_ATTRIBUTES = \[(.*?)\];", source, re.S)
    assert block, "POPOUT_ATTRIBUTES not found in the widget"
    assert tuple(re.findall(r"'([\w-]+)'", block.group(1))) == POPOUT_ATTRIBUTES
