"""The same-origin default, and JSON for every failure under the prefix.

Without HMS_ALLOWED_ORIGINS only the site's own pages may start calls. Which origin is "own" comes from the
app's SERVER_NAME or TRUSTED_HOSTS when it has them, never from the Host header alone: a DNS-rebinding page
chooses both its Host and its Origin. When the app has neither, the first page from a Host that is not this
machine's loopback (where a rebinding page could be) is warned about, once.
"""

from __future__ import annotations

import json
import logging

import pytest
import responses
from flask import Flask

from flask_hms_webcall import HMSWebCall
from flask_hms_webcall.signature import delivery_headers
from tests.conftest import free_port
from tests.support import SECRET, configured_app

HMS_URL = "https://assistant-api.hmsovereign.com/v1/web-calls"
CALL = {"call_id": "call-1", "room_name": "web-1", "token": "jwt-1", "server_url": "wss://rtc"}
WARNING = "HMS_ALLOWED_ORIGINS, SERVER_NAME and TRUSTED_HOSTS are all unset"


@pytest.fixture
def hms():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.POST, HMS_URL, json=CALL)
        yield mock


def make_app(**config) -> tuple[Flask, HMSWebCall]:
    app = configured_app(HMS_RATE_LIMIT="100 per minute", **config)
    return app, HMSWebCall(app)


def create(app: Flask, host: str, origin: str | None):
    headers = {"Origin": origin} if origin else {}
    return app.test_client().post("/hms/web-calls", json={}, base_url=f"http://{host}", headers=headers)


def assert_json_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json and response.json["error"]["code"] == code


def test_without_server_name_the_host_header_decides_and_the_first_outside_host_warns(hms, caplog):
    with caplog.at_level(logging.WARNING, logger="flask_hms_webcall"):
        app, _ = make_app()
        assert WARNING not in caplog.text  # nothing is known yet about where the app is reached
        assert create(app, "shop.example", "http://shop.example").status_code == 201
        assert_json_error(create(app, "shop.example", "http://evil.example"), 403, "forbidden_origin")
    assert caplog.text.count(WARNING) == 1
    assert "'shop.example'" in caplog.text


@pytest.mark.parametrize(
    "host",
    ["localhost", "localhost:5000", "127.0.0.1:5000", "127.1.2.3", "[::1]:8000", "shop.localhost:5000"],
)
def test_no_warning_for_pages_on_this_machines_loopback(host, hms, caplog):
    # `make demo`, and the README's `flask run` opened at the URL it prints: no outside page has these names.
    with caplog.at_level(logging.WARNING, logger="flask_hms_webcall"):
        app, _ = make_app()
        assert create(app, host, f"http://{host}").status_code == 201
        assert_json_error(create(app, host, "http://evil.example"), 403, "forbidden_origin")
    assert WARNING not in caplog.text


@pytest.mark.parametrize("host", ["localhost.evil.example", "127.0.0.1.evil.example", "10.0.0.5", "[::2]"])
def test_names_that_only_look_local_are_warned_about(host, hms, caplog):
    with caplog.at_level(logging.WARNING, logger="flask_hms_webcall"):
        app, _ = make_app()
        create(app, host, f"http://{host}")
    assert caplog.text.count(WARNING) == 1


@pytest.mark.parametrize(
    "config",
    [
        {"SERVER_NAME": "shop.example"},
        {"TRUSTED_HOSTS": ["shop.example"]},
        {"HMS_ALLOWED_ORIGINS": "http://x.y"},
    ],
)
def test_no_warning_when_the_app_names_its_hosts(config, hms, caplog):
    with caplog.at_level(logging.WARNING, logger="flask_hms_webcall"):
        app, _ = make_app(**config)
        create(app, "shop.example", "http://shop.example")
    assert WARNING not in caplog.text


def test_an_allowed_origin_named_in_unicode_matches_what_the_browser_sends(hms):
    app, _ = make_app(HMS_ALLOWED_ORIGINS="https://bücher.example")
    allowed = create(app, "api.example", "https://xn--bcher-kva.example")
    assert allowed.status_code == 201, allowed.get_data(as_text=True)
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://xn--bcher-kva.example"
    assert_json_error(create(app, "api.example", "https://xn--bcher-kvb.example"), 403, "forbidden_origin")


def test_dns_rebinding_is_refused_when_server_name_is_set(hms):
    app, _ = make_app(SERVER_NAME="shop.example")
    # The rebinding page: its own host name, pointing at this server, in both Host and Origin.
    assert_json_error(create(app, "evil.example", "http://evil.example"), 403, "forbidden_origin")
    assert create(app, "shop.example", "http://shop.example").status_code == 201
    assert_json_error(create(app, "shop.example", "https://shop.example"), 403, "forbidden_origin")


def test_trusted_hosts_name_the_origins_and_an_untrusted_host_gets_json(hms):
    app, _ = make_app(TRUSTED_HOSTS=["shop.example", ".shop.example"])
    assert create(app, "shop.example", "http://shop.example").status_code == 201
    assert_json_error(create(app, "shop.example", "http://evil.example"), 403, "forbidden_origin")
    # Flask refuses an untrusted Host before any view runs: the answer is still the JSON error shape.
    assert_json_error(create(app, "evil.example", "http://evil.example"), 400, "invalid_request")


# ------------------------------------------------------------------------------- JSON for every failure


def test_a_failing_hook_gets_json(hms):
    app, webcall = make_app()

    @webcall.before_create
    def broken(call):
        raise RuntimeError("a bug in the site's hook")

    assert_json_error(create(app, "localhost", None), 500, "internal_error")


def test_a_failing_identity_loader_gets_json(hms):
    app, webcall = make_app()
    webcall.identity_loader(lambda: 1 / 0)
    assert_json_error(create(app, "localhost", None), 500, "internal_error")


def test_a_failing_webhook_handler_gets_json():
    app, webcall = make_app()
    webcall.on()(lambda event: 1 / 0)
    body = json.dumps({"message": {"type": "status-update", "call": {"id": "call-9"}}}).encode()
    response = app.test_client().post(
        "/hms/webhooks", data=body, headers=delivery_headers("status-update", body, SECRET)
    )
    assert_json_error(response, 500, "handler_error")


def test_an_unreachable_store_gets_json_on_both_routes(hms):
    app, _ = make_app(HMS_STORAGE_URI=f"redis://127.0.0.1:{free_port()}/0", HMS_REDIS_TIMEOUT=1)
    assert_json_error(create(app, "localhost", None), 503, "unavailable")
    body = json.dumps({"message": {"type": "status-update", "call": {"id": "call-9"}}}).encode()
    response = app.test_client().post(
        "/hms/webhooks", data=body, headers=delivery_headers("status-update", body, SECRET)
    )
    assert_json_error(response, 503, "unavailable")
