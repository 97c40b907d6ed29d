"""The call registry shared by every worker: concurrency slots, daily budgets, call → user mapping, webhook
de-duplication and one-time proofs.

A *slot* is reserved before the upstream call is created (so two clicks cannot both slip under a limit),
together with the call's maximum minutes against every daily budget that applies; it is bound to the HMS
``call_id`` once that exists, and released when a webhook says the call ended, when creating it failed, or,
if no webhook ever arrives, when its expiry passes. The call's ``end-of-call-report`` settles its minutes.
Every entry expires, so a lost webhook or a crashed worker can never hold a slot forever.

``memory://`` keeps this in the process (one worker): :mod:`.memory`. ``redis://`` (also ``rediss://`` and
``unix://``) keeps it in Redis: :mod:`.redis`.
"""

from __future__ import annotations

from .base import Admission, Budget, CallStore, StoreError
from .memory import MemoryCallStore
from .redis import DEFAULT_TIMEOUT, REDIS_SCHEMES, RedisCallStore

__all__ = [
    "Admission",
    "Budget",
    "CallStore",
    "MemoryCallStore",
    "RedisCallStore",
    "StoreError",
    "create_store",
]


def create_store(uri: str, *, timeout: float = DEFAULT_TIMEOUT) -> CallStore:
    """A store for ``HMS_STORAGE_URI``: ``memory://`` or a Redis URL. ``ValueError`` for anything else."""
    if not isinstance(uri, str):
        raise ValueError("storage URI must be a string")
    if uri.strip().lower() == "memory://":
        return MemoryCallStore()
    if uri.lower().startswith(REDIS_SCHEMES):
        return RedisCallStore.from_url(uri, timeout=timeout)
    raise ValueError("unsupported storage URI: use memory:// or redis://host:port/db")
