"""POST {prefix}/web-calls, the headers: only the site's own origin may start a call; forwarded headers are
not trusted without ProxyFix; whatever the headers, a refusal is a documented error that uses up nothing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.hostile.contract import SITE, assert_clean, assert_refused, hostile_app, slots
from tests.hostile.strategies import BOUNDED, HEADER_TEXT
from tests.support import client_for, stubbed_hms

# Each of these is the site's own origin: the call is created (201).
ORIGIN_SPELLINGS_OF_THE_SITE = [
    "http://localhost",
    "HTTP://LOCALHOST",
    "http://LocalHost",
    "http://localhost/",
    "http://localhost:80",
]
# Each of these is another origin, or none: 403 forbidden_origin, on the preflight and on the POST.
FOREIGN_ORIGINS = [
    "null",
    "",
    "file://",
    "https://localhost",  # another scheme is another origin
    "http://localhost:8080",
    "http://localhost:443",
    "http://localhost.evil.example",
    "http://evillocalhost",
    "http://user@localhost",
    "http://user:pass@localhost",
    "http://localhost@evil.example",
    "http://evil.example#@localhost",
    "http://evil.example\\@localhost",
    "http://localhost/path",
    "http://localhost?x=1",
    "http://127.0.0.1",
    "http://[::1]",
    "ws://localhost",
    "localhost",
    "//localhost",
    "http://localhost:99999",
    "http://localhost:-1",
    "http://[localhost",
    "http://local host",
    "*",
    "http://localhost, http://evil.example",
]


@pytest.mark.parametrize("origin", ORIGIN_SPELLINGS_OF_THE_SITE)
def test_spellings_of_the_sites_own_origin_are_allowed(hms, origin):
    app, _, _ = hostile_app()
    response = client_for(app).post("/hms/web-calls", headers={"Origin": origin})
    assert response.status_code == 201
    assert hms.count == 1


@pytest.mark.parametrize("origin", FOREIGN_ORIGINS)
def test_foreign_origins_are_refused_changing_nothing(hms, origin):
    app, _, _ = hostile_app(HMS_RATE_LIMIT="1 per minute")
    client = client_for(app)
    for method in ("OPTIONS", "POST"):
        response = client.open("/hms/web-calls", method=method, headers={"Origin": origin})
        assert_refused(response, "forbidden_origin")
        assert "Access-Control-Allow-Origin" not in response.headers
    assert hms.count == 0 and slots(app) == 0
    # The refusals used up nothing: the visitor's one attempt a minute is still there.
    assert client.post("/hms/web-calls").status_code == 201


HOSTNAMES = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?(\.[a-z]{2,6}){0,2}", fullmatch=True)


@BOUNDED
@given(
    scheme=st.sampled_from(["http", "https", "HTTP", "ws", "ftp"]),
    host=HOSTNAMES.filter(lambda host: host != "localhost"),
    port=st.one_of(st.none(), st.integers(0, 65535)),
    slash=st.booleans(),
)
def test_random_foreign_origins_are_refused(scheme, host, port, slash):
    app, _, _ = hostile_app()
    origin = f"{scheme}://{host}" + ("" if port is None else f":{port}") + ("/" if slash else "")
    with stubbed_hms() as hms:
        response = client_for(app).post("/hms/web-calls", headers={"Origin": origin})
        assert_refused(response, "forbidden_origin")
        assert hms.count == 0 and slots(app) == 0


HOSTILE_HEADERS = st.dictionaries(
    st.sampled_from(
        [
            "Origin",
            "Host",
            "Content-Type",
            "Cookie",
            "Authorization",
            "X-Forwarded-For",
            "X-Forwarded-Host",
            "X-Forwarded-Proto",
            "X-Forwarded-Port",
            "X-Forwarded-Prefix",
            "X-Real-IP",
            "Forwarded",
            "Access-Control-Request-Headers",
            "Access-Control-Request-Method",
            "Accept",
        ]
    ),
    st.one_of(
        HEADER_TEXT, st.sampled_from(["null", SITE, "https://evil.example", "evil.example", "1.2.3.4"])
    ),
    max_size=6,
)


@BOUNDED
@given(headers=HOSTILE_HEADERS, method=st.sampled_from(["POST", "OPTIONS"]))
def test_hostile_headers_never_break_the_route(headers, method):
    app, _, _ = hostile_app()
    with stubbed_hms() as hms:
        response = client_for(app).open("/hms/web-calls", method=method, headers=headers)
        if response.status_code in (201, 204):
            assert_clean(response)
            assert hms.count == (1 if response.status_code == 201 else 0)
            return
        assert_refused(response)
        assert hms.count == 0 and slots(app) == 0


def test_forwarded_headers_are_not_trusted_without_proxyfix(hms):
    app, _, _ = hostile_app(HMS_RATE_LIMIT="2 per minute")
    client = client_for(app)
    # Claiming to be the site's public host through X-Forwarded-* does not make a foreign page same-origin.
    spoofed = {
        "Origin": "https://evil.example",
        "X-Forwarded-Host": "evil.example",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Port": "443",
        "Forwarded": "host=evil.example;proto=https",
    }
    assert_refused(client.post("/hms/web-calls", headers=spoofed), "forbidden_origin")
    assert hms.count == 0

    # Nor does a made-up client address give an anonymous visitor a fresh identity: limits follow the
    # connection's address.
    assert client.post("/hms/web-calls", headers={"X-Forwarded-For": "198.51.100.1"}).status_code == 201
    assert_refused(
        client.post(
            "/hms/web-calls", headers={"X-Forwarded-For": "198.51.100.2", "X-Real-IP": "198.51.100.3"}
        ),
        "too_many_calls",
    )
    assert_refused(client.post("/hms/web-calls", headers={"X-Forwarded-For": "198.51.100.4"}), "rate_limited")
    assert hms.count == 1 and slots(app) == 1


def test_refused_for_identity_changes_nothing(hms):
    app, _, _ = hostile_app(HMS_REQUIRE_IDENTITY=True, HMS_RATE_LIMIT="1 per minute")
    client = client_for(app)
    for raw in (b"", b'{"assistant": "sales"}', b"garbage", b"x" * 20_000):
        response = client.post("/hms/web-calls", data=raw, content_type="application/json")
        assert_refused(response, "unauthenticated")
    assert hms.count == 0 and slots(app) == 0
    # Not even the rate limit of the address was touched: once signed in, the one attempt is there.
    client.post("/sign-in/alice")
    assert client.post("/hms/web-calls").status_code == 201
