"""``redis://`` (also ``rediss://``, ``unix://``, ``redis+cluster://`` and ``redis+sentinel://``): the call
store of several workers or hosts.

Every admission, binding, release and settlement is one Lua script (the ``lua/`` files beside this module), so
it is atomic across workers and hosts, and reads Redis's own clock, so hosts with skewed clocks still agree.
All keys share one hash tag (``{hms_webcall}``), so each script's keys live in one Redis Cluster hash slot.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

from ..errors import ConfigurationError, setting_name
from .base import MAX_ACTIONS_KEPT, RECORD_TTL, ActionBatch, Admission, Budget, StoreError

__all__ = ["DEFAULT_TIMEOUT", "REDIS_SCHEMES", "RedisCallStore", "connect"]

CLUSTER_SCHEME = "redis+cluster://"
SENTINEL_SCHEME = "redis+sentinel://"
# The cluster and sentinel forms are the ones Flask-Limiter's ``limits`` reads, so one URL serves both.
REDIS_SCHEMES = ("redis://", "rediss://", "unix://", CLUSTER_SCHEME, SENTINEL_SCHEME)
DEFAULT_TIMEOUT = 2.0
# Scripts that read Redis's clock or give budget seconds back start with the shared helpers.
_NEEDS_COMMON = frozenset(
    {"admit", "bind", "release_slot", "settle_call", "open_tool_request", "answer_tool_request"}
)
# One hash tag for every key: each script's keys live in one Redis Cluster hash slot.
KEY_PREFIX = "{hms_webcall}:"

_T = TypeVar("_T")


@functools.cache
def script_source(name: str) -> str:
    """The text of ``lua/<name>.lua``, with the shared helpers in front where the script needs them."""
    folder = resources.files(__package__).joinpath("lua")
    source = folder.joinpath(f"{name}.lua").read_text(encoding="utf-8")
    if name in _NEEDS_COMMON:
        source = folder.joinpath("common.lua").read_text(encoding="utf-8") + "\n" + source
    return source


def connect(url: str, *, timeout: float = DEFAULT_TIMEOUT) -> Any:
    """A redis-py client for ``url`` whose every connect and read gives up after ``timeout`` seconds.

    ``redis+cluster://[:password@]host:port[,host:port...]`` names seed nodes of a Redis Cluster;
    ``redis+sentinel://[:password@]host:port[,host:port...]/service`` the Sentinels that know the primary.
    """
    try:
        import redis
    except ImportError:
        raise ConfigurationError(
            f"{setting_name('HMS_STORAGE_URI')} is a Redis URL but the redis package is not installed: "
            "pip install 'flask-hms-webcall[redis]'"
        ) from None
    options = connection_options(timeout)
    try:
        if url.lower().startswith(CLUSTER_SCHEME):
            return _cluster(url, options)
        if url.lower().startswith(SENTINEL_SCHEME):
            return _sentinel(url, options)
        return redis.Redis.from_url(url, **options)
    except ValueError as exc:
        raise ConfigurationError(
            f"{setting_name('HMS_STORAGE_URI')} is not a usable Redis URL: {exc}"
        ) from None
    except (redis.RedisError, redis.exceptions.RedisClusterException) as exc:
        # A cluster client learns the slot map when it is made, so an unreachable cluster shows here.
        raise ConfigurationError(
            f"{setting_name('HMS_STORAGE_URI')}: the Redis Cluster cannot be reached ({exc})"
        ) from None


def connection_options(timeout: float) -> dict[str, Any]:
    """Timeouts for every connection, and no retries: redis-py 6 retries a timed-out command three times by
    default, which would turn a frozen Redis into a wait of four timeouts and more."""
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return {"socket_timeout": timeout, "socket_connect_timeout": timeout, "retry": Retry(NoBackoff(), 0)}


def _parts(url: str) -> tuple[list[tuple[str, int]], str | None, str | None, str]:
    """Seed addresses, user name, password and path of a cluster or sentinel URL."""
    parsed = urlsplit(url)
    credentials, _, hosts = parsed.netloc.rpartition("@")
    username, _, password = credentials.partition(":") if credentials else ("", "", "")
    locations = []
    for location in hosts.split(","):
        node = urlsplit("//" + location.strip())
        if not node.hostname or node.port is None:
            raise ValueError(f"each node must be host:port, not {location.strip()!r}")
        locations.append((node.hostname, node.port))
    return locations, unquote(username) or None, unquote(password) or None, parsed.path


def _cluster(url: str, options: dict[str, Any]) -> Any:
    from redis.cluster import ClusterNode, RedisCluster

    locations, username, password, _ = _parts(url)
    return RedisCluster(
        startup_nodes=[ClusterNode(host, port) for host, port in locations],
        username=username,
        password=password,
        **options,
    )


def _sentinel(url: str, options: dict[str, Any]) -> Any:
    from redis.sentinel import Sentinel

    locations, username, password, path = _parts(url)
    service = path.strip("/")
    if not service:
        raise ValueError("name the Sentinel service: redis+sentinel://host:port/<service>")
    # The same credentials and timeouts for the sentinels and for the master they name.
    sentinel_kwargs: dict[str, Any] = {"username": username, "password": password, **options}
    sentinel = Sentinel(
        locations, sentinel_kwargs=sentinel_kwargs, username=username, password=password, **options
    )
    return sentinel.master_for(service)


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
    """The store for several workers or hosts, kept in Redis under ``{hms_webcall}:``.

    Keys: ``org``, ``anonymous`` and ``user:<user key>`` (sorted sets: slot id → expiry in ms),
    ``slot:<slot id>``, ``call:<call id>`` and ``record:<call id>`` (hashes), ``budget:<name>`` (counters),
    ``delivery:<key>`` and ``once:<key>``, ``actions:<call id>`` (a stream of page actions; its entry
    ``end`` closes it), ``tools:<call id>`` (a sorted set: the call's waiting page tool requests, request
    id → expiry in ms) and ``tool-answer:<call id>:<request id>`` (a list holding the answer). Errors
    talking to Redis are raised as :class:`StoreError`.
    """

    def __init__(self, client: Any) -> None:
        import redis

        # A cluster's own errors (no reachable node, slots not covered) are not RedisErrors.
        self._redis_error = (redis.RedisError, redis.exceptions.RedisClusterException)
        self._client = client
        base = KEY_PREFIX
        self._org_key = f"{base}org"
        self._anon_key = f"{base}anonymous"
        self._user_prefix = f"{base}user:"
        self._slot_prefix = f"{base}slot:"
        self._call_prefix = f"{base}call:"
        self._record_prefix = f"{base}record:"
        self._budget_prefix = f"{base}budget:"
        self._delivery_prefix = f"{base}delivery:"
        self._once_prefix = f"{base}once:"
        self._actions_prefix = f"{base}actions:"
        self._tools_prefix = f"{base}tools:"
        self._tool_answer_prefix = f"{base}tool-answer:"
        register = client.register_script
        self._admit = register(script_source("admit"))
        self._bind = register(script_source("bind"))
        self._release_slot = register(script_source("release_slot"))
        self._release_call = register(script_source("release_call"))
        self._settle_call = register(script_source("settle_call"))
        self._abandon = register(script_source("abandon"))
        self._remember_once = register(script_source("remember_once"))
        self._open_tool_request = register(script_source("open_tool_request"))
        self._answer_tool_request = register(script_source("answer_tool_request"))
        self._close_tool_request = register(script_source("close_tool_request"))

    @classmethod
    def from_url(cls, url: str, *, timeout: float = DEFAULT_TIMEOUT) -> RedisCallStore:
        return cls(connect(url, timeout=timeout))

    @contextmanager
    def _translate_errors(self) -> Iterator[None]:
        try:
            yield
        except self._redis_error as exc:
            raise StoreError(f"call store unavailable: {type(exc).__name__}") from exc

    @_redis_errors
    def admit(
        self,
        slot_id: str,
        user_key: str,
        *,
        max_per_user: int,
        max_org: int,
        ttl: float,
        anonymous: bool = False,
        max_anonymous: int | None = None,
        reserve: int = 0,
        budgets: tuple[Budget, ...] = (),
    ) -> Admission:
        budget_args: list[Any] = []
        for budget in budgets:
            budget_args += [int(budget.limit), _ms(budget.ttl)]
        admitted, reason, retry_ms, index = self._admit(
            keys=[
                self._org_key,
                self._user_prefix + user_key,
                self._slot_prefix + slot_id,
                self._anon_key,
                *(self._budget_prefix + budget.name for budget in budgets),
            ],
            args=[
                slot_id,
                user_key,
                int(max_per_user),
                int(max_org),
                _ms(ttl),
                1 if anonymous else 0,
                int(max_org if max_anonymous is None else max_anonymous),
                int(reserve),
                json.dumps([budget.name for budget in budgets]),
                *budget_args,
            ],
        )
        if int(admitted):
            return Admission(True)
        reason_text = _text(reason)
        retry_ms = int(retry_ms)
        retry_after = max(1, math.ceil(retry_ms / 1000)) if retry_ms >= 0 else None
        if reason_text == "budget":
            return Admission(False, "budget", None, int(index) - 1)
        if reason_text == "user":
            return Admission(False, "user", retry_after)
        if reason_text == "anonymous":
            return Admission(False, "anonymous", retry_after)
        return Admission(False, "org", retry_after)

    @_redis_errors
    def bind(self, slot_id: str, call_id: str, *, ttl: float, record_ttl: float = RECORD_TTL) -> None:
        self._bind(
            keys=[
                self._org_key,
                self._slot_prefix + slot_id,
                self._call_prefix + call_id,
                self._record_prefix + call_id,
                self._anon_key,
            ],
            args=[slot_id, call_id, _ms(ttl), self._user_prefix, _ms(record_ttl)],
        )

    @_redis_errors
    def release_slot(self, slot_id: str) -> None:
        self._release_slot(
            keys=[self._org_key, self._slot_prefix + slot_id, self._anon_key],
            args=[slot_id, self._user_prefix, self._budget_prefix],
        )

    @_redis_errors
    def release_call(self, call_id: str) -> str | None:
        return _text(
            self._release_call(
                keys=[self._org_key, self._call_prefix + call_id, self._anon_key],
                args=[self._user_prefix, self._slot_prefix],
            )
        )

    @_redis_errors
    def settle_call(self, call_id: str, duration_seconds: int) -> int | None:
        refund = int(
            self._settle_call(
                keys=[self._record_prefix + call_id], args=[int(duration_seconds), self._budget_prefix]
            )
        )
        return None if refund < 0 else refund

    @_redis_errors
    def call_owner(self, call_id: str) -> str | None:
        return _text(self._client.hget(self._record_prefix + call_id, "user"))

    @_redis_errors
    def spend_once(self, key: str, *, ttl: float) -> bool:
        return bool(self._client.set(self._once_prefix + key, "1", nx=True, px=_ms(ttl)))

    @_redis_errors
    def remember_once(self, key: str, value: str, *, ttl: float) -> str | None:
        return _text(self._remember_once(keys=[self._once_prefix + key], args=[value, _ms(ttl)]))

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

    @_redis_errors
    def publish_action(self, call_id: str, data: str, *, ttl: float) -> str:
        return self._append_action(call_id, {"a": data}, ttl)

    @_redis_errors
    def end_actions(self, call_id: str, *, ttl: float) -> None:
        self._append_action(call_id, {"end": "1"}, ttl)

    def _append_action(self, call_id: str, fields: dict[str, str], ttl: float) -> str:
        key = self._actions_prefix + call_id
        pipe = self._client.pipeline(transaction=False)
        pipe.xadd(key, fields, maxlen=MAX_ACTIONS_KEPT, approximate=False)
        pipe.pexpire(key, _ms(ttl))
        entry_id, _ = pipe.execute()
        return str(_text(entry_id))

    @_redis_errors
    def read_actions(self, call_id: str, after: str | None, *, timeout: float) -> ActionBatch:
        # One XREAD: at once when something newer is there, else blocking up to ``timeout`` (kept below the
        # socket timeout by the caller). Reads go to whichever worker's connection: the stream is the
        # delivery, so a webhook on one worker reaches a reader on any other.
        key = self._actions_prefix + call_id
        block = _ms(timeout) if timeout > 0 else None
        answer = self._client.xread({key: after or "0-0"}, count=MAX_ACTIONS_KEPT, block=block)
        events: list[tuple[str, str]] = []
        for _, entries in answer or ():
            for entry_id, fields in entries:
                values = {_text(k): _text(v) for k, v in fields.items()}
                if "end" in values:
                    return ActionBatch(tuple(events), True)
                if values.get("a") is not None:
                    events.append((str(_text(entry_id)), str(values["a"])))
        return ActionBatch(tuple(events), False)

    def _tool_keys(self, call_id: str, request_id: str) -> list[str]:
        return [self._tools_prefix + call_id, f"{self._tool_answer_prefix}{call_id}:{request_id}"]

    @_redis_errors
    def open_tool_request(self, call_id: str, request_id: str, *, limit: int, ttl: float) -> bool:
        keys = [self._tools_prefix + call_id]
        return bool(int(self._open_tool_request(keys=keys, args=[request_id, int(limit), _ms(ttl)])))

    @_redis_errors
    def answer_tool_request(self, call_id: str, request_id: str, answer: str, *, ttl: float) -> bool:
        keys = self._tool_keys(call_id, request_id)
        return bool(int(self._answer_tool_request(keys=keys, args=[request_id, answer, _ms(ttl)])))

    @_redis_errors
    def take_tool_answer(self, call_id: str, request_id: str, *, timeout: float) -> str | None:
        # One BLPOP on the request's own list: whichever worker took the answer pushed it there. The caller
        # keeps ``timeout`` below the socket timeout, as for read_actions.
        popped = self._client.blpop(self._tool_keys(call_id, request_id)[1], timeout=max(0.01, timeout))
        return None if popped is None else _text(popped[1])

    @_redis_errors
    def close_tool_request(self, call_id: str, request_id: str) -> str | None:
        keys = self._tool_keys(call_id, request_id)
        return _text(self._close_tool_request(keys=keys, args=[request_id]))

    @_redis_errors
    def keep_value(self, key: str, value: str, *, ttl: float) -> None:
        self._client.set(self._once_prefix + "kept:" + key, value, px=_ms(ttl))

    @_redis_errors
    def kept_value(self, key: str) -> str | None:
        return _text(self._client.get(self._once_prefix + "kept:" + key))
