"""The same-origin default, and JSON for every failure under the prefix.

Without HMS_ALLOWED_ORIGINS only the site's own pages may start calls. Which origin is "own" comes from the
app's SERVER_NAME or TRUSTED_HOSTS when it has them, never from the Host header alone: a DNS-rebinding page
chooses both its Host and its Origin. When the app has neither, ``init_app`` warns once.
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


def test_without_server_name_the_host_header_decides_and_init_app_warns(hms, caplog):
    with caplog.at_level(logging.WARNING, logger="flask_hms_webcall"):
        app, _ = make_app()
    assert caplog.text.count(WARNING) == 1
    assert create(app, "shop.example", "http://shop.example").status_code == 201
    assert_json_error(create(app, "shop.example", "http://evil.example"), 403, "forbidden_origin")


@pytest.mark.parametrize(
    "config",
    [
        {"SERVER_NAME": "shop.example"},
        {"TRUSTED_HOSTS": ["shop.example"]},
        {"HMS_ALLOWED_ORIGINS": "http://x.y"},
    ],
)
def test_no_warning_when_the_app_names_its_hosts(config, caplog):
    with caplog.at_level(logging.WARNING, logger="flask_hms_webcall"):
        make_app(**config)
    assert WARNING not in caplog.text


def test_no_warning_in_debug_mode(caplog):
    with caplog.at_level(logging.WARNING, logger="flask_hms_webcall"):
        make_app(DEBUG=True)
    assert WARNING not in caplog.text


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
