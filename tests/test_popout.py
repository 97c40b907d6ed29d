"""The pop-out window's page: the widget, hidden and started by nothing but its opener's handover; from the
request it takes no attribute and no text, so a link from any site gets a page that starts nothing."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from flask_hms_webcall._popout import NOTICE_ID, OPENERS_META, POPOUT_LANGUAGES
from tests.support import client_for, make_app

POPOUT_JS = "widget/src/popout.js"
# What an attacker's link puts in the address: its own texts, a server of its own, a script.
HOSTILE_QUERY = (
    "/hms/call?consent=Nothing+is+recorded.&consent-version=2&assistant-name=Bank+Support"
    "&context=%7B%22page%22%3A%22%2Fpay%22%7D&lang=nl&endpoint=https://evil.example/&autostart"
    "&label=%3Cscript%3Ealert(1)%3C/script%3E"
)
HOSTILE_TEXTS = ("Nothing is recorded", "Bank Support", "/pay", "evil.example", "alert(1)", "autostart")


class _Page(HTMLParser):
    """The page's elements as (tag, attributes), its text, and whether any script or style is inline."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.inline: list[str] = []
        self.text: list[str] = []
        self._open: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        self._open = tag
        if any(name.startswith("on") or name == "style" for name, _ in attrs):
            self.inline.append(f"{tag} attribute")

    def handle_data(self, data: str) -> None:
        if self._open in ("script", "style") and data.strip():
            self.inline.append(self._open)
        elif data.strip():
            self.text.append(data.strip())

    def handle_endtag(self, tag: str) -> None:
        self._open = None

    def one(self, tag: str, **attrs: str) -> dict[str, str | None]:
        found = [
            a for name, a in self.elements if name == tag and all(a.get(k) == v for k, v in attrs.items())
        ]
        assert len(found) == 1, f"{len(found)} <{tag} {attrs}>"
        return found[0]


def get_page(path: str = "/hms/call", accept: str = "en", **config):
    app, _ = make_app(**config)
    response = client_for(app).get(path, headers={"Accept-Language": accept})
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = _Page()
    page.feed(response.get_data(as_text=True))
    return response, page


def test_the_page_hosts_the_hidden_widget_which_waits_for_its_opener():
    _, page = get_page()
    script = page.one("script")
    assert script["src"] == "/hms/widget.js"
    assert script["data-launcher"] == "false"  # no floating launcher next to the widget
    # popout-window: the element takes its call from its opener (popout.js); hidden: no launcher till then.
    assert page.one("hms-webcall") == {"popout-window": None, "hidden": None}
    assert page.one("p", id=NOTICE_ID)
    assert page.text[-1].startswith("This window continues a call started on the site's page.")


def test_a_link_from_anywhere_gets_none_of_its_text_and_nothing_that_starts():
    response, page = get_page(HOSTILE_QUERY)
    html = response.get_data(as_text=True)
    for text in HOSTILE_TEXTS:
        assert text not in html, text
    assert page.one("hms-webcall") == {"popout-window": None, "hidden": None}
    assert response.get_data() == get_page()[0].get_data()  # the address changes nothing at all


def test_no_inline_script_or_style_and_the_csp_says_so():
    response, page = get_page()
    assert page.inline == []
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"


def test_the_openers_are_this_origin_or_the_allowed_origins():
    _, page = get_page()
    assert page.one("meta", name=OPENERS_META)["content"] == ""  # this origin only (the widget adds it)
    _, page = get_page(HMS_ALLOWED_ORIGINS=["https://www.example.com", "https://app.example.com:8443"])
    assert (
        page.one("meta", name=OPENERS_META)["content"]
        == "https://www.example.com https://app.example.com:8443"
    )


def test_the_notice_is_in_the_browsers_language():
    response, page = get_page(accept="nl-BE,nl;q=0.9,en;q=0.5")
    assert page.one("html")["lang"] == "nl"
    assert page.text[-1] == POPOUT_LANGUAGES["nl"][1]
    assert "Accept-Language" in response.headers["Vary"]
    _, page = get_page(accept="fr")
    assert page.one("html")["lang"] == "en"


def test_prefix_variants():
    _, page = get_page("/a/b/call", HMS_URL_PREFIX="/a/b")
    assert page.one("script")["src"] == "/a/b/widget.js"
    _, page = get_page("/voice/call", HMS_URL_PREFIX="/voice/")
    assert page.one("script")["src"] == "/voice/widget.js"


def test_the_page_and_the_widget_use_the_same_names():
    from tests.conftest import ROOT

    source = (ROOT / POPOUT_JS).read_text()
    assert f'meta[name="{OPENERS_META}"]' in source
    assert re.search(rf"getElementById\('{NOTICE_ID}'\)", source)
