"""GET {prefix}/static/<name>: only files inside the widget's static folder, whatever the name; every
traversal attempt is a JSON 404 that names no path and shows no file from outside."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.hostile.contract import assert_refused, hostile_app
from tests.hostile.strategies import BOUNDED, CHARS

# Each of these is a 404 not_found, on GET and HEAD.
TRAVERSALS = [
    "..%2f_config.py",
    "%2e%2e%2f_config.py",
    "%2e%2e/_config.py",
    "..%252f_config.py",
    "..%5c_config.py",
    "..%5c..%5c_config.py",
    "%5c..%5c_config.py",
    "..\\_config.py",
    "/etc/passwd",
    "%2fetc%2fpasswd",
    "//etc/passwd",
    "%2f%2fetc%2fpasswd",
    "C:%5cWindows%5cwin.ini",
    "..",
    "..%2f",
    "./..%2f..%2f..%2fetc/passwd",
    "widget.js%00.png",
    "%00",
    "~",
    "~root/.bashrc",
    "%c0%ae%c0%ae%2f_config.py",
    "..%c0%af_config.py",
    "%uff0e%uff0e%u2215_config.py",
    "a" * 5000,
]


@pytest.fixture
def static_dir(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A static folder of two files, with a "secret" source file next to it and another one level up."""
    from flask_hms_webcall import _static

    static = tmp_path / "pkg" / "static"
    static.mkdir(parents=True)
    (static / "widget.js").write_text("/* loader */")
    (static / "call-DRT3XTHH.js").write_text("/* chunk */")
    (tmp_path / "pkg" / "_config.py").write_text("SECRET_SOURCE = 1")
    (tmp_path / "outside.txt").write_text("SECRET_SOURCE = 2")
    monkeypatch.setattr(_static, "STATIC_DIR", static)
    return static


@pytest.mark.parametrize("path", TRAVERSALS)
def test_path_traversal_on_static_files_is_a_json_404(static_dir, path):
    app, _, _ = hostile_app()
    for method in ("GET", "HEAD"):
        response = app.test_client().open(f"/hms/static/{path}", method=method)
        assert response.status_code == 404, (method, response.status_code)
        if method == "GET":
            assert_refused(response, "not_found")
            text = response.get_data(as_text=True)
            assert "SECRET_SOURCE" not in text
            assert str(static_dir) not in text and "flask_hms_webcall" not in text


@settings(BOUNDED, max_examples=100)
@given(name=st.one_of(st.text(CHARS.filter(lambda c: c != "\x00"), max_size=40), st.sampled_from(TRAVERSALS)))
def test_random_static_names_serve_only_files_inside_the_static_folder(static_dir, name):
    app, _, _ = hostile_app()
    response = app.test_client().get("/hms/static/" + quote(name.encode("utf-8", "surrogatepass"), safe="/"))
    if response.status_code == 200:
        assert response.get_data() in (b"/* loader */", b"/* chunk */")
        return
    assert response.status_code in (404, 405), response.status_code
    assert_refused(response, "not_found", "method_not_allowed")
