"""The abuse and spend guard: anonymous visitors counted by network, their share of the org's slots, the
anonymous call length, and daily minute budgets reserved atomically and settled by the call's report.

Every behavioural test runs against both stores: memory (one worker) and a real Redis (two apps on one Redis
are two workers).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from flask_hms_webcall import signals
from flask_hms_webcall._callers import network_key
from tests.support import assert_error, client_for, make_app, seconds_charged, start, webhook

# One IPv6 /64, six addresses: one visitor.
SAME_64 = [f"2001:db8:1:2::{n:x}" for n in range(1, 7)] + ["2001:db8:1:2:ffff:ffff:ffff:ffff"]


@pytest.fixture(params=["memory", "redis"])
def storage(request) -> str:
    if request.param == "memory":
        return "memory://"
    return request.getfixturevalue("redis_url")


def report(call_id: str, duration: int | None) -> dict:
    message = {"type": "end-of-call-report", "end_reason": "user_hangup", "call": {"id": call_id}}
    if duration is not None:
        message["duration_seconds"] = duration
    return {"message": message}


def set_clock(app, when: datetime) -> None:
    app.extensions["hms_webcall"].clock = lambda: when.timestamp()


# ----------------------------------------------------------------------------------- anonymous networks


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("2001:db8:1:2::7", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
        ("203.0.113.7", "203.0.113.7/32"),
        ("::ffff:203.0.113.7", "203.0.113.7/32"),  # an IPv4 visitor seen through a dual-stack socket
        ("not an address", "unknown"),
        ("", "unknown"),
        (None, "unknown"),
    ],
)
def test_network_keys(address, key):
    assert network_key(address, 32, 64) == key


def test_prefix_lengths_are_configurable():
    assert network_key("203.0.113.7", 24, 64) == "203.0.113.0/24"
    assert network_key("2001:db8:1:2::7", 32, 48) == "2001:db8:1::/48"


def test_six_addresses_of_one_ipv6_64_are_one_visitor_for_the_rate_limit(hms, storage):
    app, _ = make_app(HMS_STORAGE_URI=storage, HMS_RATE_LIMIT="1 per minute", HMS_MAX_CALLS_PER_USER=10)
    assert start(client_for(app, ip=SAME_64[0])).status_code == 201
    for address in SAME_64[1:]:
        assert_error(start(client_for(app, ip=address)), 429, "rate_limited")
    # Another /64 is another visitor.
    assert start(client_for(app, ip="2001:db8:1:3::1")).status_code == 201
    assert hms.count == 2


def test_one_ipv6_64_holds_one_call_at_a_time(hms, storage):
    app, _ = make_app(HMS_STORAGE_URI=storage)
    assert start(client_for(app, ip=SAME_64[0])).status_code == 201
    for address in SAME_64[1:]:
        assert_error(start(client_for(app, ip=address)), 429, "too_many_calls")
    assert hms.count == 1


def test_ipv4_visitors_can_be_grouped_by_network(hms, storage):
    app, _ = make_app(HMS_STORAGE_URI=storage, HMS_IPV4_PREFIX=24)
    assert start(client_for(app, ip="198.51.100.1")).status_code == 201
    assert_error(start(client_for(app, ip="198.51.100.200")), 429, "too_many_calls")
    assert start(client_for(app, ip="198.51.101.1")).status_code == 201


# ------------------------------------------------------------------------------ the anonymous share


def test_anonymous_visitors_filling_their_share_leave_a_member_admitted(hms, storage):
    app, _ = make_app(HMS_STORAGE_URI=storage)  # 3 slots, an identity loader: strangers get 2
    assert start(client_for(app, ip="198.51.100.1")).status_code == 201
    assert start(client_for(app, ip="198.51.100.2")).status_code == 201
    response = start(client_for(app, ip="198.51.100.3"))
    assert_error(response, 503, "busy")
    assert 1 <= int(response.headers["Retry-After"]) <= 30
    assert start(client_for(app, "member")).status_code == 201
    assert hms.count == 3
    # The org is now full for members too.
    assert_error(start(client_for(app, "another-member")), 503, "busy")


def test_a_freed_anonymous_slot_can_be_taken_again(hms, storage):
    app, _ = make_app(HMS_STORAGE_URI=storage, HMS_MAX_ANONYMOUS_CALLS=1)
    first = start(client_for(app, ip="198.51.100.1")).json["call_id"]
    assert_error(start(client_for(app, ip="198.51.100.2")), 503, "busy")
    webhook(app, report(first, 10))
    assert start(client_for(app, ip="198.51.100.2")).status_code == 201


def test_without_an_identity_loader_anonymous_visitors_may_take_every_slot(hms, storage):
    app, _ = make_app(HMS_STORAGE_URI=storage, identity=False)
    for n in range(3):
        assert start(client_for(app, ip=f"198.51.100.{n}")).status_code == 201
    assert_error(start(client_for(app, ip="198.51.100.9")), 503, "busy")


def test_no_anonymous_calls_at_all(hms):
    app, _ = make_app(HMS_MAX_ANONYMOUS_CALLS=0)
    assert_error(start(client_for(app)), 503, "busy")
    assert start(client_for(app, "member")).status_code == 201
    assert hms.count == 1


def test_anonymous_share_cannot_exceed_the_org():
    from flask_hms_webcall import ConfigurationError

    with pytest.raises(ConfigurationError, match="HMS_MAX_ANONYMOUS_CALLS"):
        make_app(HMS_MAX_ANONYMOUS_CALLS=4)


def test_anonymous_calls_are_created_shorter(hms):
    app, _ = make_app(HMS_ANONYMOUS_MAX_DURATION=90)
    response = start(client_for(app))
    assert response.json["max_duration"] == 90
    assert hms.bodies[-1]["assistant_override"]["max_duration_seconds"] == 90
    member = start(client_for(app, "member"))
    assert member.json["max_duration"] == 300
    assert "max_duration_seconds" not in hms.bodies[-1].get("assistant_override", {})


def test_a_hook_cannot_lengthen_an_anonymous_call(hms):
    app, webcall = make_app(HMS_ANONYMOUS_MAX_DURATION=90)

    @webcall.before_create
    def longer(call):
        call.override["max_duration_seconds"] = 300

    start(client_for(app))
    assert hms.bodies[-1]["assistant_override"]["max_duration_seconds"] == 90


# ---------------------------------------------------------------------------------------------- budgets


def test_fifty_simultaneous_creates_against_two_calls_worth_admit_exactly_two(hms, storage):
    # Two workers when the store is Redis: both apps admit against the same budget.
    apps = [make_app(HMS_STORAGE_URI=storage, HMS_DAILY_MINUTES=10, HMS_MAX_CONCURRENT_CALLS=50)[0]]
    if storage != "memory://":
        apps.append(make_app(HMS_STORAGE_URI=storage, HMS_DAILY_MINUTES=10, HMS_MAX_CONCURRENT_CALLS=50)[0])
    clients = [client_for(apps[n % len(apps)], f"user-{n}") for n in range(50)]
    barrier = threading.Barrier(50)
    statuses: list[int] = []
    lock = threading.Lock()

    def create(client):
        barrier.wait()
        status = start(client).status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=create, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(statuses) == [201, 201] + [503] * 48
    assert hms.count == 2


def test_a_report_returns_the_unused_minutes_and_the_next_call_is_admitted(hms, storage):
    app, _ = make_app(HMS_STORAGE_URI=storage, HMS_DAILY_MINUTES=6, HMS_MAX_CALLS_PER_USER=5)
    call_id = start(client_for(app, "alice")).json["call_id"]  # reserves 5 of the 6 minutes
    refused = start(client_for(app, "bob"))
    assert_error(refused, 503, "budget_exhausted")
    assert int(refused.headers["Retry-After"]) >= 1
    assert webhook(app, report(call_id, 60)).status_code == 200  # used 1 minute: 5 left
    assert start(client_for(app, "bob")).status_code == 201
    assert_error(start(client_for(app, "carol")), 503, "budget_exhausted")
    assert hms.count == 2


def test_a_retried_report_settles_once(hms, storage):
    app, _ = make_app(HMS_STORAGE_URI=storage, HMS_DAILY_MINUTES=6, HMS_MAX_CALLS_PER_USER=5)
    call_id = start(client_for(app, "alice")).json["call_id"]
    webhook(app, report(call_id, 60))
    # The same report re-sent with another duration (a second delivery) gives nothing more back.
    webhook(app, report(call_id, 0))
    state = app.extensions["hms_webcall"]
    day = datetime.now(ZoneInfo("UTC")).date().isoformat()
    assert seconds_charged(state.store, f"site:{day}") == 60


def test_a_call_that_never_reports_keeps_its_reservation(hms, storage):
    app, _ = make_app(HMS_STORAGE_URI=storage, HMS_DAILY_MINUTES=6, HMS_MAX_CALLS_PER_USER=5)
    call_id = start(client_for(app, "alice")).json["call_id"]
    # A status update says it ended (the slot is freed) but no report says how long it took.
    ended = {"message": {"type": "status-update", "status": "ended", "call": {"id": call_id}}}
    assert webhook(app, ended).status_code == 200
    assert_error(start(client_for(app, "bob")), 503, "budget_exhausted")


def test_a_failed_create_gives_its_reservation_back(hms, storage):
    app, _ = make_app(HMS_STORAGE_URI=storage, HMS_DAILY_MINUTES=5)
    hms.fail(500, {"detail": "boom"})
    assert_error(start(client_for(app, "alice")), 502, "upstream_error")
    hms.answer = None
    assert start(client_for(app, "alice")).status_code == 201


def test_each_callers_own_budget_is_a_429(hms, storage):
    app, _ = make_app(HMS_STORAGE_URI=storage, HMS_USER_DAILY_MINUTES=5, HMS_MAX_CALLS_PER_USER=5)
    call_id = start(client_for(app, "alice")).json["call_id"]
    webhook(app, report(call_id, 300))
    assert_error(start(client_for(app, "alice")), 429, "budget_exhausted")
    assert start(client_for(app, "bob")).status_code == 201  # bob has his own
    # An anonymous network has one too: six addresses of one /64 share it.
    anon = start(client_for(app, ip=SAME_64[0])).json["call_id"]
    webhook(app, report(anon, 300))
    assert_error(start(client_for(app, ip=SAME_64[3])), 429, "budget_exhausted")


def test_the_anonymous_pool_is_a_503_and_leaves_members_alone(hms, storage):
    app, _ = make_app(HMS_STORAGE_URI=storage, HMS_ANONYMOUS_DAILY_MINUTES=5)
    call_id = start(client_for(app, ip="198.51.100.1")).json["call_id"]
    webhook(app, report(call_id, 300))
    assert_error(start(client_for(app, ip="198.51.100.2")), 503, "budget_exhausted")
    assert start(client_for(app, "member")).status_code == 201


def test_anonymous_calls_reserve_their_shorter_length(hms, storage):
    app, _ = make_app(
        HMS_STORAGE_URI=storage, HMS_ANONYMOUS_DAILY_MINUTES=3, HMS_ANONYMOUS_MAX_DURATION=60, identity=False
    )
    for n in range(3):
        assert start(client_for(app, ip=f"198.51.100.{n}")).status_code == 201
    assert_error(start(client_for(app, ip="198.51.100.9")), 503, "budget_exhausted")


def test_budgets_reset_at_the_configured_midnight(hms, storage):
    app, _ = make_app(HMS_STORAGE_URI=storage, HMS_DAILY_MINUTES=5, HMS_BUDGET_TIMEZONE="Europe/Amsterdam")
    amsterdam = ZoneInfo("Europe/Amsterdam")
    set_clock(app, datetime(2026, 11, 29, 23, 50, tzinfo=amsterdam))
    assert start(client_for(app, "alice")).status_code == 201
    refused = start(client_for(app, "bob"))
    assert_error(refused, 503, "budget_exhausted")
    assert refused.headers["Retry-After"] == str(10 * 60)  # until midnight in Amsterdam, not in UTC
    set_clock(app, datetime(2026, 11, 30, 0, 0, 1, tzinfo=amsterdam))
    assert start(client_for(app, "bob")).status_code == 201


def test_a_day_across_a_clock_change_is_measured_in_real_seconds(hms):
    app, _ = make_app(HMS_DAILY_MINUTES=5, HMS_BUDGET_TIMEZONE="Europe/Amsterdam")
    # The night the clocks go back: from 22:00 to midnight is 2 hours, from 01:00 (before the change) 24.
    set_clock(app, datetime(2026, 10, 24, 22, 0, tzinfo=ZoneInfo("Europe/Amsterdam")))
    start(client_for(app, "alice"))
    assert start(client_for(app, "bob")).headers["Retry-After"] == str(2 * 3600)


def test_the_first_site_refusal_of_a_day_logs_one_warning(hms, caplog):
    app, _ = make_app(HMS_DAILY_MINUTES=5, HMS_MAX_CALLS_PER_USER=5)
    start(client_for(app, "alice"))
    with caplog.at_level(logging.WARNING, "flask_hms_webcall"):
        for name in ("bob", "carol", "dave"):
            assert_error(start(client_for(app, name)), 503, "budget_exhausted")
    warnings = [r for r in caplog.records if "HMS_DAILY_MINUTES" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING


def test_no_budget_configured_reserves_nothing(hms):
    app, _ = make_app(HMS_MAX_CALLS_PER_USER=50, HMS_MAX_CONCURRENT_CALLS=50)
    for n in range(20):
        assert start(client_for(app, f"user-{n}")).status_code == 201


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"HMS_DAILY_MINUTES": -1}, "HMS_DAILY_MINUTES"),
        ({"HMS_USER_DAILY_MINUTES": "lots"}, "HMS_USER_DAILY_MINUTES"),
        ({"HMS_BUDGET_TIMEZONE": "Mars/Olympus_Mons"}, "HMS_BUDGET_TIMEZONE"),
        ({"HMS_IPV6_PREFIX": 129}, "HMS_IPV6_PREFIX"),
        ({"HMS_IPV4_PREFIX": 33}, "HMS_IPV4_PREFIX"),
        ({"HMS_ANONYMOUS_MAX_DURATION": 301}, "HMS_ANONYMOUS_MAX_DURATION"),
        ({"HMS_ANONYMOUS_MAX_DURATION": 0}, "HMS_ANONYMOUS_MAX_DURATION"),
    ],
)
def test_unusable_guard_settings_fail_at_init_app(config, message):
    from flask_hms_webcall import ConfigurationError

    with pytest.raises(ConfigurationError, match=message):
        make_app(**config)


# ---------------------------------------------------------------------------------------------- signals


def test_signals_fire_with_the_documented_arguments(hms):
    app, _ = make_app(HMS_DAILY_MINUTES=5, HMS_MAX_CALLS_PER_USER=5)
    seen: list[tuple[str, dict]] = []

    def recorder(name):
        def receive(sender, **kwargs):
            assert sender is app
            seen.append((name, kwargs))

        return receive

    receivers = {
        name: recorder(name)
        for name in (
            "call_created",
            "call_refused",
            "call_ended",
            "webhook_received",
            "webhook_failed",
            "budget_exhausted",
        )
    }
    for name, receiver in receivers.items():
        getattr(signals, name).connect(receiver, app)
    call_id = start(client_for(app, "alice")).json["call_id"]
    start(client_for(app, "bob"))
    webhook(app, report(call_id, 42))

    names = [name for name, _ in seen]
    assert names == ["call_created", "budget_exhausted", "call_refused", "webhook_received", "call_ended"]
    created, exhausted, refused, received, ended = (kwargs for _, kwargs in seen)
    assert created == {"call_id": call_id, "identity": "alice", "caller": "user:alice", "max_duration": 300}
    assert exhausted["scope"] == "site" and exhausted["caller"] == "user:bob"
    assert exhausted["retry_after"] >= 1
    assert refused == {"code": "budget_exhausted", "identity": "bob", "caller": "user:bob"}
    assert received["event"].call_id == call_id
    assert ended["call_id"] == call_id and ended["duration_seconds"] == 42
    assert ended["ended_reason"] == "user_hangup"


def test_webhook_failed_signal(hms):
    app, webcall = make_app()
    failures = []

    def on_failure(sender, **kwargs):
        failures.append(kwargs)

    signals.webhook_failed.connect(on_failure, app)

    @webcall.on("end-of-call-report")
    def broken(event):
        raise RuntimeError("database down")

    assert webhook(app, report("call-x", 10)).status_code == 500
    assert len(failures) == 1
    assert isinstance(failures[0]["exception"], RuntimeError)
    assert failures[0]["event"].call_id == "call-x"
