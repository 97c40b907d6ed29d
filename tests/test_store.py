"""The call registry: concurrency limits, call → user mapping, expiry and webhook de-duplication.

Every behavioural test runs against both stores; the Redis ones use a real redis-server (tests/conftest.py).
"""

from __future__ import annotations

import sys
import threading
import time
import uuid
from collections.abc import Callable

import pytest

from flask_hms_webcall.errors import ConfigurationError
from flask_hms_webcall.store import (
    Admission,
    CallStore,
    MemoryCallStore,
    RedisCallStore,
    StoreError,
    create_store,
)
from tests.conftest import free_port
from tests.support import slots_held, wait_until

TTL = 60.0


@pytest.fixture(params=["memory", "redis"])
def make_store(request) -> Callable[[], CallStore]:
    """Makes stores that share state the way workers of one app do: one process, or one Redis."""
    if request.param == "memory":
        shared = MemoryCallStore()
        return lambda: shared
    url = request.getfixturevalue("redis_url")
    return lambda: create_store(url)


@pytest.fixture
def store(make_store) -> CallStore:
    return make_store()


def new_id() -> str:
    return str(uuid.uuid4())


def admit(
    store: CallStore, user: str, slot: str | None = None, *, per_user: int = 1, org: int = 3, ttl: float = TTL
) -> Admission:
    return store.admit(slot or new_id(), user, max_per_user=per_user, max_org=org, ttl=ttl)


# ----------------------------------------------------------------------------------------------- limits


def test_per_user_limit(store):
    assert admit(store, "alice") == Admission(True, None, None)
    refused = admit(store, "alice")
    assert refused.admitted is False
    assert refused.reason == "user"
    assert admit(store, "bob").admitted
    assert slots_held(store, "alice") == 1
    assert slots_held(store, "bob") == 1
    assert slots_held(store) == 2


def test_per_user_limit_above_one(store):
    assert [admit(store, "alice", per_user=2).admitted for _ in range(3)] == [True, True, False]
    assert slots_held(store, "alice") == 2


def test_org_limit(store):
    assert all(admit(store, f"user-{i}").admitted for i in range(3))
    refused = admit(store, "user-3")
    assert (refused.admitted, refused.reason) == (False, "org")
    assert slots_held(store) == 3
    assert slots_held(store, "user-3") == 0


def test_user_limit_is_reported_before_the_org_limit(store):
    admit(store, "alice", org=2)
    admit(store, "bob", org=2)
    assert admit(store, "alice", org=2).reason == "user"
    assert admit(store, "carol", org=2).reason == "org"


def test_retry_after_is_the_time_until_the_soonest_slot_expires(store):
    admit(store, "alice", org=2, ttl=100)
    admit(store, "bob", org=2, ttl=30)
    busy = admit(store, "carol", org=2)
    assert busy.reason == "org"
    assert 29 <= busy.retry_after <= 30
    mine = admit(store, "alice", org=5)
    assert mine.reason == "user"
    assert 99 <= mine.retry_after <= 100


def test_retry_after_is_at_least_one_second(store):
    admit(store, "alice", ttl=0.9)
    assert admit(store, "alice").retry_after == 1


def test_a_zero_limit_admits_nobody_and_gives_no_retry_time(store):
    assert admit(store, "alice", per_user=0) == Admission(False, "user", None)
    assert admit(store, "alice", org=0) == Admission(False, "org", None)
    assert slots_held(store) == 0


def test_a_refused_admission_changes_nothing(store):
    slot = new_id()
    admit(store, "alice", slot)
    admit(store, "alice")
    admit(store, "bob", org=1)
    assert slots_held(store) == 1
    store.bind(slot, "call-1", ttl=TTL)
    assert store.release_call("call-1") == "alice"
    assert slots_held(store) == 0


# ----------------------------------------------------------------------------------- binding and release


def test_bind_maps_the_call_to_its_user_and_release_call_frees_the_slot(store):
    slot = new_id()
    admit(store, "alice", slot)
    store.bind(slot, "call-1", ttl=TTL)
    assert store.call_owner("call-1") == "alice"
    assert store.release_call("call-1") == "alice"
    assert store.release_call("call-1") is None
    assert slots_held(store) == 0
    assert admit(store, "alice").admitted


def test_release_call_twice_or_for_an_unknown_call_returns_none(store):
    slot = new_id()
    admit(store, "alice", slot)
    store.bind(slot, "call-1", ttl=TTL)
    assert store.release_call("call-1") == "alice"
    assert store.release_call("call-1") is None
    assert store.release_call("never-created") is None
    assert store.call_owner("never-created") is None


def test_release_call_frees_only_that_call(store):
    slots = [new_id(), new_id()]
    for slot, call_id in zip(slots, ["call-a", "call-b"], strict=True):
        admit(store, "alice", slot, per_user=2)
        store.bind(slot, call_id, ttl=TTL)
    assert store.release_call("call-a") == "alice"
    assert slots_held(store, "alice") == 1
    assert store.release_call("call-b") == "alice"


def test_release_slot_frees_a_slot_whose_call_was_never_created(store):
    slot = new_id()
    admit(store, "alice", slot)
    store.release_slot(slot)
    assert slots_held(store) == 0
    assert admit(store, "alice").admitted
    store.release_slot("unknown-slot")


def test_bind_of_a_released_slot_does_nothing(store):
    slot = new_id()
    admit(store, "alice", slot)
    store.release_slot(slot)
    store.bind(slot, "call-1", ttl=TTL)
    assert store.call_owner("call-1") is None
    assert store.release_call("call-1") is None
    assert slots_held(store) == 0


def test_stores_sharing_a_backend_see_each_others_calls(make_store):
    worker_a, worker_b = make_store(), make_store()
    slot = new_id()
    admit(worker_a, "alice", slot)
    worker_a.bind(slot, "call-1", ttl=TTL)
    assert admit(worker_b, "alice").reason == "user"
    assert worker_b.call_owner("call-1") == "alice"
    assert worker_b.release_call("call-1") == "alice"
    assert slots_held(worker_a) == 0


# ------------------------------------------------------------------------------------------------ expiry


def test_a_slot_is_released_when_it_expires(store):
    admit(store, "alice", ttl=0.2)
    assert slots_held(store, "alice") == 1
    wait_until(lambda: slots_held(store) == 0)
    assert admit(store, "alice").admitted


def test_expired_slots_do_not_count_against_the_org(store):
    admit(store, "alice", org=1, ttl=0.2)
    wait_until(lambda: admit(store, "bob", org=1).admitted)
    assert slots_held(store) == 1


def test_bind_renews_the_slot_for_the_call_lifetime(store):
    slot = new_id()
    admit(store, "alice", slot, ttl=0.5)
    store.bind(slot, "call-1", ttl=TTL)
    time.sleep(0.7)
    assert slots_held(store, "alice") == 1
    assert store.release_call("call-1") == "alice"


def test_a_bound_call_that_never_reports_back_expires(store):
    slot = new_id()
    admit(store, "alice", slot)
    store.bind(slot, "call-1", ttl=0.2)
    wait_until(lambda: slots_held(store) == 0)
    assert store.release_call("call-1") is None


# -------------------------------------------------------------------------------------------- deliveries


def test_remember_once_keeps_the_first_value_until_it_expires(store):
    assert store.remember_once("feedback:c1", "up", ttl=30) is None
    assert store.remember_once("feedback:c1", "down", ttl=30) == "up"
    assert store.remember_once("feedback:c1", "up", ttl=30) == "up"
    assert store.remember_once("feedback:c2", "down", ttl=30) is None
    assert store.remember_once("feedback:short", "up", ttl=0.05) is None
    time.sleep(0.15)
    assert store.remember_once("feedback:short", "down", ttl=30) is None


def test_a_delivery_is_claimed_once(store):
    assert store.claim_delivery("d1", ttl=TTL) is True
    assert store.claim_delivery("d1", ttl=TTL) is False
    assert store.delivery_handled("d1") is False
    assert store.claim_delivery("d2", ttl=TTL) is True


def test_a_completed_delivery_is_handled_and_not_claimed_again(store):
    assert store.claim_delivery("d1", ttl=TTL)
    store.complete_delivery("d1", ttl=TTL)
    assert store.delivery_handled("d1") is True
    assert store.claim_delivery("d1", ttl=TTL) is False
    store.abandon_delivery("d1")  # too late to abandon: it stays handled
    assert store.delivery_handled("d1") is True


def test_an_abandoned_delivery_may_be_claimed_again(store):
    assert store.claim_delivery("d1", ttl=TTL)
    store.abandon_delivery("d1")
    assert store.delivery_handled("d1") is False
    assert store.claim_delivery("d1", ttl=TTL) is True
    store.abandon_delivery("never-claimed")


def test_an_unfinished_claim_lapses(store):
    assert store.claim_delivery("d1", ttl=0.2)
    wait_until(lambda: store.claim_delivery("d1", ttl=TTL))


def test_a_handled_mark_expires(store):
    store.claim_delivery("d1", ttl=TTL)
    store.complete_delivery("d1", ttl=0.2)
    wait_until(lambda: not store.delivery_handled("d1"))
    assert store.claim_delivery("d1", ttl=TTL)


def test_concurrent_claims_of_one_delivery_let_exactly_one_through(make_store):
    stores = [make_store(), make_store()]
    barrier = threading.Barrier(20)
    results: list[bool] = []

    def worker(i: int) -> None:
        barrier.wait()
        results.append(stores[i % 2].claim_delivery("same-delivery", ttl=TTL))

    run_threads(worker, 20)
    assert sorted(results) == [False] * 19 + [True]


# ----------------------------------------------------------------------------------- atomic admissions


def run_threads(target: Callable[[int], None], count: int) -> None:
    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads)


@pytest.mark.parametrize(
    ("users", "per_user", "org", "expected"),
    [
        (50, 1, 3, 3),  # 50 different visitors race for the org's 3 slots
        (1, 2, 3, 2),  # one visitor double-clicking 50 times gets their 2 slots, no more
        (5, 1, 3, 3),  # a mix: both limits in play
    ],
)
@pytest.mark.parametrize("workers", [1, 2])
def test_simultaneous_admissions_admit_exactly_the_allowed_number(
    make_store, users, per_user, org, expected, workers
):
    # Separate store objects (separate Redis connections) stand in for separate workers or hosts.
    stores = [make_store() for _ in range(workers)]
    barrier = threading.Barrier(50)
    results: list[Admission] = []
    lock = threading.Lock()

    def attempt(i: int) -> None:
        store = stores[i % workers]
        barrier.wait()
        result = store.admit(new_id(), f"user-{i % users}", max_per_user=per_user, max_org=org, ttl=TTL)
        with lock:
            results.append(result)

    run_threads(attempt, 50)
    assert len(results) == 50
    assert sum(r.admitted for r in results) == expected
    assert slots_held(stores[0]) == expected
    for r in results:
        if not r.admitted:
            assert r.reason in ("user", "org")
            assert r.retry_after is not None and 1 <= r.retry_after <= TTL
    if users == 1:
        assert all(r.reason == "user" for r in results if not r.admitted)


# ------------------------------------------------------------------------------------ factory and Redis


def test_create_store_picks_the_backend_from_the_uri(redis_url):
    assert isinstance(create_store("memory://"), MemoryCallStore)
    assert isinstance(create_store(redis_url), RedisCallStore)


def test_each_memory_store_is_separate():
    a, b = create_store("memory://"), create_store("memory://")
    admit(a, "alice")
    assert slots_held(b) == 0


@pytest.mark.parametrize("uri", ["", "memory", "postgres://db/1", "http://127.0.0.1:6379", "file:///tmp/x"])
def test_create_store_refuses_other_uris(uri):
    with pytest.raises(ValueError):
        create_store(uri)


def test_redis_uri_without_the_redis_package_is_a_clear_configuration_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "redis", None)  # makes `import redis` fail
    with pytest.raises(ConfigurationError, match=r"pip install 'flask-hms-webcall\[redis\]'"):
        create_store("redis://127.0.0.1:6379/0")


def test_unreachable_redis_raises_store_error():
    store = create_store(f"redis://127.0.0.1:{free_port()}/0")
    with pytest.raises(StoreError):
        admit(store, "alice")
    with pytest.raises(StoreError):
        store.claim_delivery("d1", ttl=TTL)


def test_redis_keys_are_namespaced_and_all_expire(redis_url):
    import redis

    client = redis.Redis.from_url(redis_url)
    store = create_store(redis_url)
    slot = new_id()
    admit(store, "alice", slot)
    store.bind(slot, "call-1", ttl=TTL, record_ttl=TTL)
    admit(store, "bob")
    store.claim_delivery("d1", ttl=TTL)
    store.claim_delivery("d2", ttl=TTL)
    store.complete_delivery("d2", ttl=TTL)
    keys = [k.decode() for k in client.keys("*")]
    assert len(keys) >= 8  # org, 2 users, 2 slots, 1 call, 1 call record, 2 deliveries
    for key in keys:
        # One hash tag for every key: each script's keys live in one Redis Cluster hash slot.
        assert key.startswith("{hms_webcall}:"), key
        ttl_ms = client.pttl(key)
        assert 0 < ttl_ms <= TTL * 1000 + 1000, (key, ttl_ms)
