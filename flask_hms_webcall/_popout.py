"""The pop-out window's page (``GET {prefix}/call``): the widget alone, waiting for the call its opener hands.

The widget's "continue in a small window" control opens this page and hands the call's attributes to it
over ``postMessage`` (widget/src/popout.js); the page's address carries nothing. The page is served by
the extension, so it is on the backend's origin: the create request is same-origin there, with the
backend's cookies, and the call in this window outlives the navigation of the tab that opened it.

Anybody can open this address (a link, ``window.open`` from another site), so nothing here comes from the
request: no attribute, no text. The widget takes a handover only from the window that opened it and only
when that window's page is on this origin or on one of ``openers`` (``HMS_ALLOWED_ORIGINS``, not secret:
they are the origins allowed to create calls). Until then the element is hidden and the page says, in
the visitor's language, that calls start on the site's page; opened any other way, that is all it shows.

The page has no inline script or style, so its answer carries a strict Content-Security-Policy
(``script-src 'self'``: the widget's own files only).
"""

from __future__ import annotations

from html import escape

from flask import Response
from werkzeug.datastructures import LanguageAccept

__all__ = ["NOTICE_ID", "OPENERS_META", "POPOUT_LANGUAGES", "popout_page", "popout_response"]

# The names widget/src/popout.js looks for.
OPENERS_META = "hms-webcall-openers"
NOTICE_ID = "hms-webcall-popout-notice"

# The widget's built-in languages (widget/src/strings.js), and the page's own title and notice in each.
POPOUT_LANGUAGES = {
    "en": (
        "Call",
        "This window continues a call started on the site's page. If no call appears here, "
        "close this window and start the call on the site.",
    ),
    "nl": (
        "Gesprek",
        "Dit venster zet een gesprek voort dat op de pagina van de site is begonnen. Verschijnt hier "
        "geen gesprek, sluit dit venster dan en start het gesprek op de site.",
    ),
}


def popout_page(url_prefix: str, openers: tuple[str, ...], lang: str = "en") -> str:
    """The whole HTML page for ``GET {url_prefix}/call``: the widget, which takes its call from a page on this
    origin or on one of ``openers``, and a notice in ``lang`` (one of ``POPOUT_LANGUAGES``)."""
    prefix = escape(url_prefix.rstrip("/"), quote=True)
    lang = lang if lang in POPOUT_LANGUAGES else "en"
    title, notice = POPOUT_LANGUAGES[lang]
    return (
        "<!doctype html>\n"
        f'<html lang="{lang}">\n'
        "<head>\n"
        '<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="robots" content="noindex">\n'
        f'<meta name="{OPENERS_META}" content="{escape(" ".join(openers), quote=True)}">\n'
        f"<title>{title}</title>\n"
        f'<script src="{prefix}/widget.js" data-launcher="false" defer></script>\n'
        "</head>\n"
        "<body>\n"
        f'<p id="{NOTICE_ID}">{escape(notice)}</p>\n'
        "<hms-webcall popout-window hidden></hms-webcall>\n"
        "</body>\n"
        "</html>\n"
    )


def popout_response(
    url_prefix: str, allowed_origins: tuple[str, ...] | None, accept: LanguageAccept
) -> Response:
    """The answer to ``GET {url_prefix}/call``: :func:`popout_page` for ``HMS_ALLOWED_ORIGINS`` (``None``:
    this origin only) in the language the browser prefers, with the headers that keep it to itself."""
    lang = accept.best_match(POPOUT_LANGUAGES) or "en"
    response = Response(popout_page(url_prefix, allowed_origins or (), lang), mimetype="text/html")
    response.vary.add("Accept-Language")
    # Its only script is the widget's file; nobody may frame it (clickjacking the microphone button).
    response.headers["Content-Security-Policy"] = (
        "script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    )
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    return response
