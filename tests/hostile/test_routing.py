"""Routing under the prefix: any other method is a JSON 405 naming the allowed ones, any other path a JSON
404; neither reaches HMS or a handler."""

from __future__ import annotations

import pytest

from tests.hostile.contract import SITE, assert_refused, hostile_app, slots
from tests.support import client_for


@pytest.mark.parametrize("path", ["/hms/web-calls", "/hms/webhooks", "/hms/widget.js", "/hms/static/x.js"])
@pytest.mark.parametrize(
    "method", ["GET", "PUT", "PATCH", "DELETE", "HEAD", "TRACE", "CONNECT", "PROPFIND", "BREW"]
)
def test_other_methods_are_a_json_405(hms, path, method):
    app, _, seen = hostile_app()
    if method in ("GET", "HEAD") and path.endswith(".js"):
        return  # served on GET and HEAD
    response = client_for(app).open(path, method=method, headers={"Origin": SITE})
    assert response.status_code == 405, response.get_data(as_text=True)[:200]
    assert response.headers["Allow"]
    assert method.upper() not in {m.strip() for m in response.headers["Allow"].split(",")}
    if method.upper() != "HEAD":
        assert_refused(response, "method_not_allowed")
    assert hms.count == 0 and slots(app) == 0 and seen == []


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE", "TRACE", "PROPFIND", "BREW"])
@pytest.mark.parametrize(
    "path",
    [
        "/hms/",
        "/hms/nope",
        "/hms/web-calls/x",
        "/hms/web-calls/",
        "/hms/static/",
        "/hms/%00",
        "/hms/%0a",
        "/hms/static/a%0Ab",
        "/hms/widget.js%0A",
        "/hms//x",
        "/hms/" + "%ff" * 100,
    ],
)
def test_unknown_paths_under_the_prefix_are_a_json_404(hms, path, method):
    app, _, _ = hostile_app()
    response = client_for(app).open(path, method=method)
    assert response.status_code in (404, 405), response.get_data(as_text=True)[:200]
    assert_refused(response, "not_found", "method_not_allowed")
    assert hms.count == 0


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PROPFIND"])
@pytest.mark.parametrize("host", [None, "evil.example", "evil.example:8443"])
@pytest.mark.parametrize("path", ["/hms", "/hms?next=//evil.example/"])
def test_the_prefix_itself_is_a_json_404_not_a_redirect(hms, method, host, path):
    # Werkzeug answers a rule's slash-less twin with a permanent redirect built from the Host header, an
    # HTML page a cache may keep: a foreign Host would make this site send visitors elsewhere.
    app, _, seen = hostile_app()
    headers = {"Host": host} if host else {}
    response = client_for(app).open(path, method=method, headers=headers)
    assert response.status_code == 404, (response.status_code, response.headers.get("Location"))
    assert "Location" not in response.headers
    assert response.headers.get("Cache-Control") == "no-store"
    if method != "HEAD":
        assert_refused(response, "not_found")
    assert hms.count == 0 and seen == []
