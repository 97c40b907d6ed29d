"""``memory://``: the call store of a single process. Thread-safe; entries expire on a monotonic clock."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from .base import MAX_ACTIONS_KEPT, RECORD_TTL, ActionBatch, Admission, Budget, retry_after

__all__ = ["MemoryCallStore"]


@dataclass
class _Slot:
    user_key: str
    expires: float
    anonymous: bool = False
    reserved: int = 0
    budgets: tuple[str, ...] = ()


@dataclass
class _Call:
    slot_id: str
    user_key: str
    expires: float


@dataclass
class _Record:
    """What a created call reserved and who made it: for settling its minutes and for feedback."""

    user_key: str
    reserved: int
    budgets: tuple[str, ...]
    expires: float
    settled: bool = False


@dataclass
class _Counter:
    value: int = 0
    expires: float = field(default=0.0)


@dataclass
class _ActionLog:
    """One call's page actions: ``(sequence number, JSON)``, the newest ``MAX_ACTIONS_KEPT`` of them."""

    expires: float
    events: list[tuple[int, str]] = field(default_factory=list)
    last: int = 0
    ended: bool = False


_Entry = TypeVar("_Entry", _Call, _Record, _ActionLog)


class MemoryCallStore:
    """The store for a single process (``memory://``)."""

    _SWEEP_MIN = 1024

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._slots: dict[str, _Slot] = {}
        self._calls: dict[str, _Call] = {}
        self._records: dict[str, _Record] = {}
        self._budgets: dict[str, _Counter] = {}
        self._deliveries: dict[str, tuple[bool, float]] = {}  # key -> (handled, expires)
        # key -> (value, expires): spent one-time proofs and remembered first values, as Redis's once: keys
        self._once: dict[str, tuple[str, float]] = {}
        self._actions: dict[str, _ActionLog] = {}
        # Readers of action logs wait on this; every change to a log wakes them all (few readers, one each
        # per live call) and each checks its own log.
        self._actions_changed = threading.Condition(self._lock)
        # call id -> {request id: expiry}: page tool requests waiting for the page; (call, request) -> answer
        self._tool_requests: dict[str, dict[str, float]] = {}
        self._tool_answers: dict[tuple[str, str], str] = {}
        self._sweep_at = self._SWEEP_MIN

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
        with self._lock:
            now = self._clock()
            self._drop_expired_slots(now)
            mine = [s.expires for s in self._slots.values() if s.user_key == user_key]
            if len(mine) >= max_per_user:
                return Admission(False, "user", retry_after(min(mine, default=None), now))
            for index, budget in enumerate(budgets):
                if self._budget(budget.name, now).value + reserve > budget.limit:
                    return Admission(False, "budget", None, index)
            if anonymous:
                pool = [s.expires for s in self._slots.values() if s.anonymous]
                if max_anonymous is not None and len(pool) >= max_anonymous:
                    return Admission(False, "anonymous", retry_after(min(pool, default=None), now))
            if len(self._slots) >= max_org:
                soonest = min((s.expires for s in self._slots.values()), default=None)
                return Admission(False, "org", retry_after(soonest, now))
            for budget in budgets:
                counter = self._budget(budget.name, now)
                counter.value += reserve
                counter.expires = max(counter.expires, now + budget.ttl)
                self._budgets[budget.name] = counter
            self._slots[slot_id] = _Slot(
                user_key, now + ttl, anonymous, reserve, tuple(b.name for b in budgets)
            )
            return Admission(True)

    def bind(self, slot_id: str, call_id: str, *, ttl: float, record_ttl: float = RECORD_TTL) -> None:
        with self._lock:
            now = self._clock()
            self._drop_expired_slots(now)
            slot = self._slots.get(slot_id)
            if slot is None:
                return
            slot.expires = now + ttl
            self._calls[call_id] = _Call(slot_id, slot.user_key, now + ttl)
            self._records[call_id] = _Record(slot.user_key, slot.reserved, slot.budgets, now + record_ttl)
            self._maybe_sweep(now)

    def release_slot(self, slot_id: str) -> None:
        with self._lock:
            slot = self._slots.pop(slot_id, None)
            if slot is not None:
                self._refund(slot.budgets, slot.reserved, self._clock())

    def release_call(self, call_id: str) -> str | None:
        with self._lock:
            call = self._live(self._calls, call_id)
            if call is None:
                return None
            del self._calls[call_id]
            self._slots.pop(call.slot_id, None)
            return call.user_key

    def settle_call(self, call_id: str, duration_seconds: int) -> int | None:
        with self._lock:
            record = self._live(self._records, call_id)
            if record is None or record.settled:
                return None
            refund = record.reserved - min(max(duration_seconds, 0), record.reserved)
            self._refund(record.budgets, refund, self._clock())
            record.settled = True
            return refund

    def call_owner(self, call_id: str) -> str | None:
        with self._lock:
            record = self._live(self._records, call_id)
            return record.user_key if record is not None else None

    def spend_once(self, key: str, *, ttl: float) -> bool:
        return self.remember_once(key, "1", ttl=ttl) is None

    def remember_once(self, key: str, value: str, *, ttl: float) -> str | None:
        with self._lock:
            now = self._clock()
            kept = self._once.get(key)
            if kept is not None and kept[1] > now:
                return kept[0]
            self._once[key] = (value, now + ttl)
            self._maybe_sweep(now)
            return None

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
            claimed = key in self._deliveries
            self._deliveries[key] = (True, now + ttl)
            if not claimed:  # replacing the claim grows nothing, so there is nothing to sweep
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

    def publish_action(self, call_id: str, data: str, *, ttl: float) -> str:
        with self._lock:
            log = self._action_log(call_id, ttl)
            log.last += 1
            log.events.append((log.last, data))
            del log.events[:-MAX_ACTIONS_KEPT]
            self._actions_changed.notify_all()
            return str(log.last)

    def end_actions(self, call_id: str, *, ttl: float) -> None:
        with self._lock:
            self._action_log(call_id, ttl).ended = True
            self._actions_changed.notify_all()

    def read_actions(self, call_id: str, after: str | None, *, timeout: float) -> ActionBatch:
        seen = int(after) if after else 0  # an id this store issued (the stream sends no other)
        deadline = self._clock() + timeout
        with self._lock:
            while True:
                log = self._live(self._actions, call_id)
                events = tuple((str(n), data) for n, data in log.events if n > seen) if log else ()
                ended = bool(log and log.ended)
                left = deadline - self._clock()
                if events or ended or left <= 0:
                    return ActionBatch(events, ended)
                self._actions_changed.wait(left)

    # The caller holds the lock in every helper below.

    def keep_value(self, key: str, value: str, *, ttl: float) -> None:
        with self._lock:
            now = self._clock()
            self._once["kept:" + key] = (value, now + ttl)  # swept with the one-time values
            self._maybe_sweep(now)

    def kept_value(self, key: str) -> str | None:
        with self._lock:
            kept = self._once.get("kept:" + key)
            return kept[0] if kept is not None and kept[1] > self._clock() else None

    def _action_log(self, call_id: str, ttl: float) -> _ActionLog:
        now = self._clock()
        log = self._live(self._actions, call_id)
        if log is None:
            log = self._actions[call_id] = _ActionLog(now + ttl)
            self._maybe_sweep(now)
        log.expires = max(log.expires, now + ttl)
        return log

    def _live(self, table: dict[str, _Entry], key: str) -> _Entry | None:
        entry = table.get(key)
        if entry is not None and entry.expires <= self._clock():
            del table[key]
            return None
        return entry

    def open_tool_request(self, call_id: str, request_id: str, *, limit: int, ttl: float) -> bool:
        with self._lock:
            now = self._clock()
            waiting = {k: t for k, t in self._tool_requests.get(call_id, {}).items() if t > now}
            if len(waiting) >= limit:
                return False
            waiting[request_id] = now + ttl
            self._tool_requests[call_id] = waiting
            return True

    def answer_tool_request(self, call_id: str, request_id: str, answer: str, *, ttl: float) -> bool:
        with self._lock:
            waiting = self._tool_requests.get(call_id, {})
            expires = waiting.pop(request_id, None)
            if not waiting:
                self._tool_requests.pop(call_id, None)
            if expires is None or expires <= self._clock():
                return False
            self._tool_answers[(call_id, request_id)] = answer
            self._actions_changed.notify_all()
            return True

    def take_tool_answer(self, call_id: str, request_id: str, *, timeout: float) -> str | None:
        deadline = self._clock() + timeout
        with self._lock:
            while True:
                answer = self._tool_answers.pop((call_id, request_id), None)
                left = deadline - self._clock()
                if answer is not None or left <= 0:
                    return answer
                self._actions_changed.wait(left)

    def close_tool_request(self, call_id: str, request_id: str) -> str | None:
        with self._lock:
            waiting = self._tool_requests.get(call_id, {})
            waiting.pop(request_id, None)
            if not waiting:
                self._tool_requests.pop(call_id, None)
            return self._tool_answers.pop((call_id, request_id), None)

    def _budget(self, name: str, now: float) -> _Counter:
        counter = self._budgets.get(name)
        if counter is None or counter.expires <= now:
            return _Counter()
        return counter

    def _refund(self, names: tuple[str, ...], seconds: int, now: float) -> None:
        for name in names:
            counter = self._budgets.get(name)
            if counter is not None and counter.expires > now:
                counter.value = max(0, counter.value - seconds)

    def _drop_expired_slots(self, now: float) -> None:
        for slot_id in [k for k, s in self._slots.items() if s.expires <= now]:
            del self._slots[slot_id]

    def _maybe_sweep(self, now: float) -> None:
        # Entries looked up only by key would pile up once expired; a full sweep whenever the maps have
        # doubled keeps the cost amortised O(1).
        size = self._size()
        if size < self._sweep_at:
            return
        self._deliveries = {k: v for k, v in self._deliveries.items() if v[1] > now}
        self._calls = {k: v for k, v in self._calls.items() if v.expires > now}
        self._records = {k: v for k, v in self._records.items() if v.expires > now}
        self._once = {k: v for k, v in self._once.items() if v[1] > now}
        self._budgets = {k: v for k, v in self._budgets.items() if v.expires > now}
        self._actions = {k: v for k, v in self._actions.items() if v.expires > now}
        self._sweep_at = max(self._SWEEP_MIN, 2 * self._size())

    def _size(self) -> int:
        # Added up, not summed over a generator: this runs on every insert, and the generator took longer than
        # the rest of the insert.
        calls = len(self._calls) + len(self._records) + len(self._actions)
        return calls + len(self._deliveries) + len(self._once)
