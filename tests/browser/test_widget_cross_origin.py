"""The widget on a static site of another origin than the Flask app: CORS, credentials and a CSRF header."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.browser.conftest import EVENT_RECORDER, Widget
from tests.conftest import free_port

pytestmark = pytest.mark.browser


class StaticSite:
    """A one-page site on its own port (so its own origin) embedding the app's widget."""

    def __init__(self, port: int, html: str) -> None:
        body = html.encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.url = f"http://127.0.0.1:{port}"
        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def site_factory() -> Iterator:
    started: list[StaticSite] = []

    def start(port: int, html: str) -> StaticSite:
        site = StaticSite(port, html)
        started.append(site)
        return site

    yield start
    for site in started:
        site.stop()


def marketing_page(app_url: str) -> str:
    return f"""<!doctype html><html lang="en"><body><h1>Marketing site</h1>
<hms-webcall id="hero-call"></hms-webcall>
<script src="{app_url}/hms/widget.js" data-launcher="false" data-csrf-header="X-CSRFToken"
        data-csrf-token="token-from-the-page" defer></script></body></html>"""


def test_cross_origin_call_with_cookies_and_csrf_header(
    chromium, example_app_factory, widget_built, site_factory
):
    allowed_port, other_port = free_port(), free_port()
    allowed_origin = f"http://127.0.0.1:{allowed_port}"
    app = example_app_factory(env={"FLASK_HMS_ALLOWED_ORIGINS": json.dumps([allowed_origin])})
    allowed = site_factory(allowed_port, marketing_page(app.url))
    other = site_factory(other_port, marketing_page(app.url))

    context = chromium.new_context()
    context.add_init_script(EVENT_RECORDER)
    page = context.new_page()
    # Signed in on the app: its session cookie has to travel with the widget's cross-origin request.
    page.goto(f"{app.url}/")
    page.fill("#name", "Ada")
    page.locator("#sign-in button[type=submit]").click()
    page.wait_for_selector(".user-name")

    posts = []
    page.on(
        "request", lambda r: posts.append(r) if r.method == "POST" and r.url.endswith("/web-calls") else None
    )
    page.goto(allowed.url)
    widget = Widget(page)
    widget.part("launcher").click()
    widget.wait_state("live", "error", timeout=25)
    assert widget.state == "live", widget.events("error")
    assert posts[0].headers.get("x-csrftoken") == "token-from-the-page"
    [call] = app.sandbox_calls()
    assert call["metadata"].get("user_id") == "Ada"
    widget.part("hangup").click()
    widget.wait_state("ended")

    # Another site may embed the script, but not spend this app's credits.
    page.goto(other.url)
    widget = Widget(page)
    widget.part("launcher").click()
    widget.wait_state("error")
    assert [e["code"] for e in widget.events("error")] == ["forbidden_origin"]
    assert widget.message() == "Calls can't be started from this website."
    assert widget.part("retry").is_hidden()
    assert app.sandbox_stats()["create_requests"] == 1
    context.close()
