"""Configuration: defaults, precedence, and init_app failing fast on anything unusable."""

from __future__ import annotations

import warnings

import pytest
from flask import Flask

from flask_hms_webcall import ConfigurationError, HMSWebCall
from tests.support import API_KEY, ASSISTANT_ID, SECRET, configured_app

OTHER_ID = "5a4db0c5-0000-4000-8000-000000000001"


def settings_of(app: Flask):
    return app.extensions["hms_webcall"].settings


def test_defaults():
    app = configured_app()
    HMSWebCall(app)
    s = settings_of(app)
    assert s.api_base_url == "https://assistant-api.hmsovereign.com"
    assert s.url_prefix == "/hms"
    assert s.allowed_origins is None
    assert s.require_identity is False
    assert s.rate_limit == "5 per minute;30 per day"
    assert s.max_calls_per_user == 1
    assert s.max_concurrent_calls == 3
    assert s.storage_uri == "memory://"
    assert s.webhook_secrets == (SECRET,)
    assert s.webhook_tolerance == 300
    assert s.webhook_max_bytes == 1024 * 1024
    assert s.request_timeout == 10
    # A call holds its slot for at most token TTL + max duration + a margin when no webhook comes.
    assert 600 < s.slot_ttl(anonymous=False) <= 900


def test_precedence_init_app_over_constructor_over_config_over_default():
    app = configured_app(HMS_URL_PREFIX="/from-config", HMS_RATE_LIMIT="9 per hour", HMS_MAX_CALLS_PER_USER=4)
    webcall = HMSWebCall(url_prefix="/from-constructor", rate_limit="8 per hour")
    webcall.init_app(app, url_prefix="/from-init-app")
    s = settings_of(app)
    assert s.url_prefix == "/from-init-app"
    assert s.rate_limit == "8 per hour"
    assert s.max_calls_per_user == 4
    assert s.max_concurrent_calls == 3
    assert app.test_client().get("/from-init-app/nothing-here").status_code == 404
    assert app.test_client().get("/from-init-app/nothing-here").json["error"]["code"] == "not_found"


def test_unknown_option_is_a_type_error():
    with pytest.raises(TypeError, match="url_prefx"):
        HMSWebCall(configured_app(), url_prefx="/x")


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"HMS_API_KEY": None}, "HMS_API_KEY"),
        ({"HMS_API_KEY": ""}, "HMS_API_KEY"),
        ({"HMS_API_KEY": "sk bad key"}, "HMS_API_KEY"),
        ({"HMS_ASSISTANT_ID": None}, "assistant"),
        ({"HMS_ASSISTANT_ID": "not-a-uuid"}, "HMS_ASSISTANT_ID"),
        ({"HMS_ASSISTANTS": {"sales": "nope"}}, "HMS_ASSISTANTS"),
        ({"HMS_ASSISTANTS": {"bad name!": ASSISTANT_ID}}, "HMS_ASSISTANTS"),
        ({"HMS_ASSISTANTS": ["sales"]}, "HMS_ASSISTANTS"),
        ({"HMS_STORAGE_URI": "mongodb://localhost/x"}, "HMS_STORAGE_URI"),
        ({"HMS_STORAGE_URI": "nonsense"}, "HMS_STORAGE_URI"),
        ({"HMS_RATE_LIMIT": "five a minute"}, "HMS_RATE_LIMIT"),
        ({"HMS_RATE_LIMIT": ""}, "HMS_RATE_LIMIT"),
        ({"HMS_API_BASE_URL": "http://assistant-api.hmsovereign.com"}, "https"),
        ({"HMS_API_BASE_URL": "ftp://127.0.0.1"}, "https"),
        ({"HMS_API_BASE_URL": "https://user:pw@example.com"}, "credentials"),
        ({"HMS_API_BASE_URL": "not a url"}, "HMS_API_BASE_URL"),
        ({"HMS_URL_PREFIX": "/"}, "HMS_URL_PREFIX"),
        ({"HMS_URL_PREFIX": "/a b"}, "HMS_URL_PREFIX"),
        ({"HMS_ALLOWED_ORIGINS": "*"}, "HMS_ALLOWED_ORIGINS"),
        ({"HMS_ALLOWED_ORIGINS": ["https://example.com/path"]}, "HMS_ALLOWED_ORIGINS"),
        ({"HMS_ALLOWED_ORIGINS": ["example.com"]}, "HMS_ALLOWED_ORIGINS"),
        ({"HMS_REQUIRE_IDENTITY": "yes"}, "HMS_REQUIRE_IDENTITY"),
        ({"HMS_MAX_CALLS_PER_USER": 0}, "HMS_MAX_CALLS_PER_USER"),
        ({"HMS_MAX_CONCURRENT_CALLS": -1}, "HMS_MAX_CONCURRENT_CALLS"),
        ({"HMS_MAX_CONCURRENT_CALLS": True}, "HMS_MAX_CONCURRENT_CALLS"),
        ({"HMS_WEBHOOK_TOLERANCE": "soon"}, "HMS_WEBHOOK_TOLERANCE"),
        ({"HMS_WEBHOOK_SECRET": 4.2}, "HMS_WEBHOOK_SECRET"),  # a number with digits lost
        ({"HMS_REQUEST_TIMEOUT": 0}, "HMS_REQUEST_TIMEOUT"),
        ({"HMS_REQUEST_TIMEOUT": "ten"}, "HMS_REQUEST_TIMEOUT"),
    ],
)
def test_unusable_configuration_fails_at_init_app(config, message):
    app = configured_app(**config)
    with pytest.raises(ConfigurationError, match=message) as info:
        HMSWebCall(app)
    assert API_KEY not in str(info.value)
    # Named as the README's app sets it too: from_prefixed_env() reads FLASK_HMS_* into HMS_*.
    assert "FLASK_HMS_" in str(info.value)
    # Nothing was registered: the app is not left half set up.
    assert "hms_webcall" not in app.extensions
    assert "hms_webcall" not in app.blueprints


def test_plain_http_base_url_is_allowed_for_this_machine_only():
    for url in ("http://127.0.0.1:7880", "http://localhost:7880/", "http://[::1]:7880"):
        app = configured_app(HMS_API_BASE_URL=url)
        HMSWebCall(app)
        assert settings_of(app).api_base_url == url.rstrip("/")


def test_assistants_by_name_without_a_default():
    app = configured_app(HMS_ASSISTANT_ID=None, HMS_ASSISTANTS={"sales": ASSISTANT_ID, "support": OTHER_ID})
    HMSWebCall(app)
    assert settings_of(app).assistants == {"sales": ASSISTANT_ID, "support": OTHER_ID}


def test_allowed_origins_are_normalised():
    app = configured_app(HMS_ALLOWED_ORIGINS="https://Shop.Example.com:443, http://localhost:5000")
    HMSWebCall(app)
    assert settings_of(app).allowed_origins == ("https://shop.example.com", "http://localhost:5000")


def test_allowed_origins_named_in_unicode_are_the_ascii_form_browsers_send():
    app = configured_app(HMS_ALLOWED_ORIGINS=["https://Bücher.example", "https://straße.example:8443"])
    HMSWebCall(app)
    assert settings_of(app).allowed_origins == (
        "https://xn--bcher-kva.example",
        "https://xn--strae-oqa.example:8443",
    )


def test_webhook_secret_list_for_rotation():
    app = configured_app(HMS_WEBHOOK_SECRET=["whsec_new", "whsec_old"])
    HMSWebCall(app)
    assert settings_of(app).webhook_secrets == ("whsec_new", "whsec_old")


def test_missing_webhook_secret_warns():
    app = configured_app(HMS_WEBHOOK_SECRET=None)
    with pytest.warns(UserWarning, match="HMS_WEBHOOK_SECRET"):
        HMSWebCall(app)


def test_configured_webhook_secret_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        HMSWebCall(configured_app())


def test_secrets_are_not_in_reprs():
    app = configured_app(HMS_STORAGE_URI="memory://", HMS_WEBHOOK_SECRET="whsec_do_not_print")
    HMSWebCall(app)
    state = app.extensions["hms_webcall"]
    for text in (repr(state.settings), repr(state.client), str(state.settings)):
        assert API_KEY not in text
        assert "whsec_do_not_print" not in text


def test_init_app_twice_on_one_app_is_refused():
    app = configured_app()
    webcall = HMSWebCall(app)
    with pytest.raises(ConfigurationError, match="already"):
        webcall.init_app(app)


def test_one_extension_serves_several_apps_with_their_own_state():
    webcall = HMSWebCall()

    @webcall.identity_loader
    def who():
        return "alice"

    first, second = configured_app(), configured_app(HMS_URL_PREFIX="/voice", HMS_MAX_CALLS_PER_USER=2)
    webcall.init_app(first)
    webcall.init_app(second)
    assert settings_of(first).url_prefix == "/hms"
    assert settings_of(second).url_prefix == "/voice"
    assert first.extensions["hms_webcall"].store is not second.extensions["hms_webcall"].store
    assert not hasattr(webcall, "app")
    for app in (first, second):
        with app.test_request_context():
            assert app.extensions["hms_webcall"].identity() == "alice"


def test_own_limiter_does_not_apply_the_apps_default_limits_again():
    app = configured_app(RATELIMIT_DEFAULT="1 per day", RATELIMIT_APPLICATION="1 per day")

    @app.get("/ping")
    def ping():
        return "pong"

    HMSWebCall(app)
    client = app.test_client()
    assert [client.get("/ping").status_code for _ in range(3)] == [200, 200, 200]


def test_the_cli_group_is_available_through_the_entry_point():
    from importlib.metadata import entry_points

    names = {ep.name: ep.value for ep in entry_points(group="flask.commands")}
    assert names.get("hms") == "flask_hms_webcall.cli:hms_cli"
