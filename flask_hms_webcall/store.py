"""The call registry shared by every worker: concurrency slots, call → user mapping, webhook de-duplication.

A *slot* is reserved before the upstream call is created (so two clicks cannot both slip under a limit),
bound to the HMS ``call_id`` once it exists, and released when a webhook says the call ended, when creating
it failed, or, if no webhook ever arrives, when its expiry passes. Every entry expires, so a lost webhook or a
crashed worker can never hold a slot forever.

``memory://`` keeps this in the process (one worker). ``redis://`` (also ``rediss://`` and ``unix://``) keeps
it in Redis, where every admission is one Lua script and therefore atomic across workers and hosts; Redis's
own clock is used, so hosts with skewed clocks still agree. Redis Cluster is not supported (the scripts touch
keys they derive at run time).
"""

from __future__ import annotations

import functools
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

from .errors import ConfigurationError, HMSWebCallError

__all__ = [
    "DEFAULT_PREFIX",
    "Admission",
    "CallStore",
    "MemoryCallStore",
    "RedisCallStore",
    "StoreError",
    "create_store",
]

DEFAULT_PREFIX = "hms_webcall:"
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


class StoreError(HMSWebCallError):
    """The shared store could not be reached or answered nonsense (e.g. Redis is down)."""


@dataclass(frozen=True)
class Admission:
    """The answer to :meth:`CallStore.admit`.

    ``reason`` says which limit refused the slot (``"user"`` or ``"org"``); ``retry_after`` is the number of
    seconds until the soonest slot counted against that limit expires (at least 1), or ``None`` when admitted
    or when no slot will ever free up (a limit of 0).
    """

    admitted: bool
    reason: Literal["user", "org"] | None = None
    retry_after: int | None = None


class CallStore(Protocol):
    def admit(self, slot_id: str, user_key: str, *, max_per_user: int, max_org: int, ttl: float) -> Admission:
        """Atomically drop expired slots, then reserve ``slot_id`` for ``user_key`` until now + ``ttl`` if the
        user holds fewer than ``max_per_user`` slots and the org fewer than ``max_org``. Admitting a slot id
        that is already held renews it."""

    def bind(self, slot_id: str, call_id: str, *, ttl: float) -> None:
        """Record that ``slot_id`` became the upstream call ``call_id``; slot and mapping now expire after
        ``ttl``. Does nothing when the slot is no longer held."""

    def release_slot(self, slot_id: str) -> None:
        """Free a slot whose upstream call could not be created."""

    def release_call(self, call_id: str) -> str | None:
        """Free the slot of a call that ended; the user key it belonged to, or ``None`` if unknown/already
        released."""

    def user_for_call(self, call_id: str) -> str | None: ...

    def active_calls(self, user_key: str | None = None) -> int:
        """Slots held by ``user_key``, or by the whole org when ``None``."""

    def claim_delivery(self, key: str, *, ttl: float) -> bool:
        """Start handling a webhook delivery; ``False`` if it was handled or is being handled. An unfinished
        claim lapses after ``ttl`` so a crashed handler does not block retries forever."""

    def complete_delivery(self, key: str, *, ttl: float) -> None:
        """Mark a delivery handled; duplicates arriving in the next ``ttl`` seconds are refused."""

    def abandon_delivery(self, key: str) -> None:
        """The handler failed: let a retry of the delivery run again (no effect on a completed delivery)."""

    def delivery_handled(self, key: str) -> bool: ...


def create_store(uri: str, *, prefix: str = DEFAULT_PREFIX) -> CallStore:
    """A store for ``HMS_STORAGE_URI``: ``memory://`` or a Redis URL. ``ValueError`` for anything else."""
    if not isinstance(uri, str):
        raise ValueError("storage URI must be a string")
    if uri.strip().lower() == "memory://":
        return MemoryCallStore()
    if uri.lower().startswith(REDIS_SCHEMES):
        return RedisCallStore.from_url(uri, prefix=prefix)
    raise ValueError("unsupported storage URI: use memory:// or redis://host:port/db")


def _retry_after(soonest_expiry: float | None, now: float) -> int | None:
    if soonest_expiry is None:
        return None
    return max(1, math.ceil(soonest_expiry - now))


# --------------------------------------------------------------------------------------------- memory store


@dataclass
class _Slot:
    user_key: str
    expires: float
    call_id: str | None = None


@dataclass
class _Call:
    slot_id: str
    user_key: str
    expires: float


class MemoryCallStore:
    """The store for a single process. Thread-safe; entries expire on a monotonic clock."""

    _SWEEP_MIN = 1024

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._slots: dict[str, _Slot] = {}
        self._calls: dict[str, _Call] = {}
        self._deliveries: dict[str, tuple[bool, float]] = {}  # key -> (handled, expires)
        self._sweep_at = self._SWEEP_MIN

    def admit(self, slot_id: str, user_key: str, *, max_per_user: int, max_org: int, ttl: float) -> Admission:
        with self._lock:
            now = self._clock()
            self._drop_expired_slots(now)
            held = self._slots.get(slot_id)
            if held is not None and held.user_key == user_key:
                held.expires = max(held.expires, now + ttl)
                return Admission(True)
            mine = [s.expires for s in self._slots.values() if s.user_key == user_key]
            if len(mine) >= max_per_user:
                return Admission(False, "user", _retry_after(min(mine, default=None), now))
            if len(self._slots) >= max_org:
                soonest = min((s.expires for s in self._slots.values()), default=None)
                return Admission(False, "org", _retry_after(soonest, now))
            self._slots[slot_id] = _Slot(user_key, now + ttl)
            return Admission(True)

    def bind(self, slot_id: str, call_id: str, *, ttl: float) -> None:
        with self._lock:
            now = self._clock()
            self._drop_expired_slots(now)
            slot = self._slots.get(slot_id)
            if slot is None:
                return
            slot.expires = now + ttl
            slot.call_id = call_id
            self._calls[call_id] = _Call(slot_id, slot.user_key, now + ttl)
            self._maybe_sweep(now)

    def release_slot(self, slot_id: str) -> None:
        with self._lock:
            slot = self._slots.pop(slot_id, None)
            if slot is not None and slot.call_id is not None:
                self._calls.pop(slot.call_id, None)

    def release_call(self, call_id: str) -> str | None:
        with self._lock:
            call = self._live_call(call_id)
            if call is None:
                return None
            del self._calls[call_id]
            self._slots.pop(call.slot_id, None)
            return call.user_key

    def user_for_call(self, call_id: str) -> str | None:
        with self._lock:
            call = self._live_call(call_id)
            return call.user_key if call is not None else None

    def active_calls(self, user_key: str | None = None) -> int:
        with self._lock:
            self._drop_expired_slots(self._clock())
            if user_key is None:
                return len(self._slots)
            return sum(1 for s in self._slots.values() if s.user_key == user_key)

    def claim_delivery(self, key: str, *, ttl: float) -> bool:
        with self._lock:
            now = self._clock()
            entry = self._deliveries.get(key)
            if entry is not None and entry[1] > now:
                return False
            self._deliveries[key] = (False, now + ttl)
            self._maybe_sweep(now)
            return True

    def complete_delivery(self, key: str, *, ttl: float) -> None:
        with self._lock:
            now = self._clock()
            self._deliveries[key] = (True, now + ttl)
            self._maybe_sweep(now)

    def abandon_delivery(self, key: str) -> None:
        with self._lock:
            entry = self._deliveries.get(key)
            if entry is not None and not entry[0]:
                del self._deliveries[key]

    def delivery_handled(self, key: str) -> bool:
        with self._lock:
            entry = self._deliveries.get(key)
            return entry is not None and entry[0] and entry[1] > self._clock()

    # The caller holds the lock in every helper below.

    def _live_call(self, call_id: str) -> _Call | None:
        call = self._calls.get(call_id)
        if call is not None and call.expires <= self._clock():
            del self._calls[call_id]
            return None
        return call

    def _drop_expired_slots(self, now: float) -> None:
        for slot_id in [k for k, s in self._slots.items() if s.expires <= now]:
            del self._slots[slot_id]

    def _maybe_sweep(self, now: float) -> None:
        # Deliveries and call mappings are only looked up by key, so expired ones would pile up; a full sweep
        # whenever the maps have doubled keeps the cost amortised O(1).
        size = len(self._deliveries) + len(self._calls)
        if size < self._sweep_at:
            return
        self._deliveries = {k: v for k, v in self._deliveries.items() if v[1] > now}
        self._calls = {k: v for k, v in self._calls.items() if v.expires > now}
        self._sweep_at = max(self._SWEEP_MIN, 2 * (len(self._deliveries) + len(self._calls)))


# ---------------------------------------------------------------------------------------------- Redis store

# Every script reads Redis's clock (TIME) so that all workers and hosts share one notion of "now"; times are
# integer milliseconds. Sorted sets map slot id -> expiry; every key gets a TTL no shorter than its content.
_LUA_COMMON = """
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function keep_until_last(key, now)
  local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if last[2] then
    redis.call('PEXPIRE', key, math.max(1, tonumber(last[2]) - now + 1000))
  end
end
"""

# KEYS: org zset, user zset, slot hash. ARGV: slot_id, user_key, max_per_user, max_org, ttl_ms.
# Returns {admitted (0/1), reason ('' / 'user' / 'org'), retry_after_ms (-1 when none)}.
_ADMIT = (
    _LUA_COMMON
    + """
local org, user, slot = KEYS[1], KEYS[2], KEYS[3]
local slot_id, user_key = ARGV[1], ARGV[2]
local max_user, max_org, ttl = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local now = now_ms()
redis.call('ZREMRANGEBYSCORE', org, '-inf', now)
redis.call('ZREMRANGEBYSCORE', user, '-inf', now)
local function soonest(key)
  local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  if first[2] then return tonumber(first[2]) - now end
  return -1
end
local expires = now + ttl
if redis.call('ZSCORE', user, slot_id) then
  local renewed = math.max(expires, tonumber(redis.call('ZSCORE', user, slot_id)))
  redis.call('ZADD', org, renewed, slot_id)
  redis.call('ZADD', user, renewed, slot_id)
  redis.call('PEXPIRE', slot, math.max(1, renewed - now))
  keep_until_last(org, now)
  keep_until_last(user, now)
  return {1, '', -1}
end
if redis.call('ZCARD', user) >= max_user then return {0, 'user', soonest(user)} end
if redis.call('ZCARD', org) >= max_org then return {0, 'org', soonest(org)} end
redis.call('ZADD', org, expires, slot_id)
redis.call('ZADD', user, expires, slot_id)
redis.call('DEL', slot)
redis.call('HSET', slot, 'user', user_key)
redis.call('PEXPIRE', slot, ttl)
keep_until_last(org, now)
keep_until_last(user, now)
return {1, '', -1}
"""
)

# KEYS: org zset, slot hash, call hash. ARGV: slot_id, call_id, ttl_ms, user zset key prefix.
_BIND = (
    _LUA_COMMON
    + """
local org, slot, call = KEYS[1], KEYS[2], KEYS[3]
local slot_id, call_id, ttl, user_prefix = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local now = now_ms()
local user_key = redis.call('HGET', slot, 'user')
if not user_key or not redis.call('ZSCORE', org, slot_id) then return 0 end
local user = user_prefix .. user_key
local expires = now + ttl
redis.call('ZADD', org, expires, slot_id)
redis.call('ZADD', user, expires, slot_id)
keep_until_last(org, now)
keep_until_last(user, now)
redis.call('HSET', slot, 'call', call_id)
redis.call('PEXPIRE', slot, ttl)
redis.call('DEL', call)
redis.call('HSET', call, 'slot', slot_id, 'user', user_key)
redis.call('PEXPIRE', call, ttl)
return 1
"""
)

# KEYS: org zset, slot hash. ARGV: slot_id, user zset key prefix, call hash key prefix.
_RELEASE_SLOT = """
local org, slot = KEYS[1], KEYS[2]
local slot_id, user_prefix, call_prefix = ARGV[1], ARGV[2], ARGV[3]
local fields = redis.call('HMGET', slot, 'user', 'call')
redis.call('ZREM', org, slot_id)
if fields[1] then redis.call('ZREM', user_prefix .. fields[1], slot_id) end
if fields[2] then redis.call('DEL', call_prefix .. fields[2]) end
redis.call('DEL', slot)
return 1
"""

# KEYS: org zset, call hash. ARGV: user zset key prefix, slot hash key prefix. Returns the user key or false.
_RELEASE_CALL = """
local org, call = KEYS[1], KEYS[2]
local user_prefix, slot_prefix = ARGV[1], ARGV[2]
local fields = redis.call('HMGET', call, 'slot', 'user')
redis.call('DEL', call)
if not fields[1] or not fields[2] then return false end
redis.call('ZREM', org, fields[1])
redis.call('ZREM', user_prefix .. fields[2], fields[1])
redis.call('DEL', slot_prefix .. fields[1])
return fields[2]
"""

# KEYS: a slot zset. Counts the slots that have not expired.
_COUNT = (
    _LUA_COMMON
    + """
return redis.call('ZCOUNT', KEYS[1], '(' .. now_ms(), '+inf')
"""
)

# KEYS: delivery key. Deletes it only while it is an unfinished claim.
_ABANDON = """
if redis.call('GET', KEYS[1]) == 'pending' then redis.call('DEL', KEYS[1]) end
return 1
"""

_T = TypeVar("_T")


def _redis_errors(method: Callable[..., _T]) -> Callable[..., _T]:
    @functools.wraps(method)
    def wrapper(self: RedisCallStore, *args: Any, **kwargs: Any) -> _T:
        with self._translate_errors():
            return method(self, *args, **kwargs)

    return wrapper


def _ms(seconds: float) -> int:
    return max(1, math.ceil(seconds * 1000))


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisCallStore:
    """The store for several workers or hosts, kept in Redis under ``prefix``.

    Keys: ``<prefix>org`` and ``<prefix>user:<user key>`` (sorted sets: slot id → expiry in ms),
    ``<prefix>slot:<slot id>`` and ``<prefix>call:<call id>`` (hashes), ``<prefix>delivery:<key>``.
    Errors talking to Redis are raised as :class:`StoreError`.
    """

    def __init__(self, client: Any, *, prefix: str = DEFAULT_PREFIX) -> None:
        import redis

        self._redis_error = redis.RedisError
        self._client = client
        self.prefix = prefix
        self._org_key = f"{prefix}org"
        self._user_prefix = f"{prefix}user:"
        self._slot_prefix = f"{prefix}slot:"
        self._call_prefix = f"{prefix}call:"
        self._delivery_prefix = f"{prefix}delivery:"
        self._admit = client.register_script(_ADMIT)
        self._bind = client.register_script(_BIND)
        self._release_slot = client.register_script(_RELEASE_SLOT)
        self._release_call = client.register_script(_RELEASE_CALL)
        self._count = client.register_script(_COUNT)
        self._abandon = client.register_script(_ABANDON)

    @classmethod
    def from_url(cls, url: str, *, prefix: str = DEFAULT_PREFIX) -> RedisCallStore:
        try:
            import redis
        except ImportError:
            raise ConfigurationError(
                "HMS_STORAGE_URI is a Redis URL but the redis package is not installed: "
                "pip install 'flask-hms-webcall[redis]'"
            ) from None
        try:
            client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        except ValueError as exc:
            raise ConfigurationError(f"HMS_STORAGE_URI is not a usable Redis URL: {exc}") from None
        return cls(client, prefix=prefix)

    @contextmanager
    def _translate_errors(self) -> Iterator[None]:
        try:
            yield
        except self._redis_error as exc:
            raise StoreError(f"call store unavailable: {type(exc).__name__}") from exc

    @_redis_errors
    def admit(self, slot_id: str, user_key: str, *, max_per_user: int, max_org: int, ttl: float) -> Admission:
        admitted, reason, retry_ms = self._admit(
            keys=[self._org_key, self._user_prefix + user_key, self._slot_prefix + slot_id],
            args=[slot_id, user_key, int(max_per_user), int(max_org), _ms(ttl)],
        )
        if int(admitted):
            return Admission(True)
        retry_ms = int(retry_ms)
        retry_after = max(1, math.ceil(retry_ms / 1000)) if retry_ms >= 0 else None
        return Admission(False, "user" if _text(reason) == "user" else "org", retry_after)

    @_redis_errors
    def bind(self, slot_id: str, call_id: str, *, ttl: float) -> None:
        self._bind(
            keys=[self._org_key, self._slot_prefix + slot_id, self._call_prefix + call_id],
            args=[slot_id, call_id, _ms(ttl), self._user_prefix],
        )

    @_redis_errors
    def release_slot(self, slot_id: str) -> None:
        self._release_slot(
            keys=[self._org_key, self._slot_prefix + slot_id],
            args=[slot_id, self._user_prefix, self._call_prefix],
        )

    @_redis_errors
    def release_call(self, call_id: str) -> str | None:
        return _text(
            self._release_call(
                keys=[self._org_key, self._call_prefix + call_id],
                args=[self._user_prefix, self._slot_prefix],
            )
        )

    @_redis_errors
    def user_for_call(self, call_id: str) -> str | None:
        return _text(self._client.hget(self._call_prefix + call_id, "user"))

    @_redis_errors
    def active_calls(self, user_key: str | None = None) -> int:
        key = self._org_key if user_key is None else self._user_prefix + user_key
        return int(self._count(keys=[key]))

    @_redis_errors
    def claim_delivery(self, key: str, *, ttl: float) -> bool:
        return bool(self._client.set(self._delivery_prefix + key, "pending", nx=True, px=_ms(ttl)))

    @_redis_errors
    def complete_delivery(self, key: str, *, ttl: float) -> None:
        self._client.set(self._delivery_prefix + key, "done", px=_ms(ttl))

    @_redis_errors
    def abandon_delivery(self, key: str) -> None:
        self._abandon(keys=[self._delivery_prefix + key])

    @_redis_errors
    def delivery_handled(self, key: str) -> bool:
        return _text(self._client.get(self._delivery_prefix + key)) == "done"
