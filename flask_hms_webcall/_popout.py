"""The pop-out window's page (``GET {prefix}/call``): the widget alone, starting the call by itself.

The widget's "continue in a small window" control opens this page with its own attributes as the query
(widget/src/popout.js builds that address). The page is served by the extension, so it is on the
backend's origin: the create request is same-origin there, with the backend's cookies, and the call in
this window outlives the navigation of the tab that opened it.

Only an allowlist of attributes is taken from the query, each escaped. Not ``endpoint`` or
``credentials``: an address anyone can write must not send the visitor's microphone to another server,
and on its own origin the widget's default endpoint is the right one. Not ``csrf-token``: a secret does
not belong in an address. The page has no inline script or style, so a strict Content-Security-Policy
(``script-src 'self'``) holds: the widget reads its settings from attributes and starts itself
(``autostart``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from html import escape

__all__ = ["POPOUT_ATTRIBUTES", "popout_page"]

# The same list as POPOUT_ATTRIBUTES in widget/src/popout.js.
POPOUT_ATTRIBUTES = (
    "label",
    "theme",
    "lang",
    "assistant",
    "assistant-name",
    "show-transcript",
    "context",
    "agent-timeout",
    "max-duration",
    "reconnect-timeout",
    "strings",
    "consent",
    "consent-version",
    "confirm-leave",
    "csrf-header",
    "csrf-cookie",
    "csrf-meta",
)
# Longer values are dropped, not cut: a cut JSON context or consent text would be wrong, not shorter.
MAX_VALUE_LENGTH = 4000
LANG_TAG = re.compile(r"^[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*$")


def popout_page(url_prefix: str, query: Mapping[str, str]) -> str:
    """The whole HTML page for ``GET {url_prefix}/call`` with the widget attributes taken from ``query``."""
    prefix = url_prefix.rstrip("/")
    attributes = {
        name: value
        for name in POPOUT_ATTRIBUTES
        if isinstance(value := query.get(name), str)
        and len(value) <= MAX_VALUE_LENGTH
        and "\x00" not in value
    }
    lang = attributes.get("lang", "")
    html_lang = lang if LANG_TAG.match(lang) else "en"
    element = " ".join(
        ["autostart", "popout-window"]
        + [f'{name}="{escape(value, quote=True)}"' for name, value in attributes.items()]
    )
    # A <template slot="consent"> cannot travel in an address; its text does, as the consent attribute.
    return (
        "<!doctype html>\n"
        f'<html lang="{escape(html_lang, quote=True)}">\n'
        "<head>\n"
        '<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="robots" content="noindex">\n'
        f"<title>{escape(attributes.get('assistant-name') or 'Call')}</title>\n"
        f'<script src="{escape(prefix, quote=True)}/widget.js" data-launcher="false" defer></script>\n'
        "</head>\n"
        "<body>\n"
        f"<hms-webcall {element}></hms-webcall>\n"
        "</body>\n"
        "</html>\n"
    )
