"""What every call store offers: the protocol, its answers and its error."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, Protocol

from ..errors import HMSWebCallError

__all__ = [
    "MAX_ACTIONS_KEPT",
    "RECORD_TTL",
    "ActionBatch",
    "Admission",
    "Budget",
    "CallStore",
    "RefusalReason",
    "StoreError",
    "retry_after",
]

# How long who made a call and what it reserved are kept: long enough to settle it and to take feedback.
RECORD_TTL = 24 * 3600

# Page actions kept per call: a reconnecting browser is replayed at most these (the newest).
MAX_ACTIONS_KEPT = 100

RefusalReason = Literal["user", "budget", "anonymous", "org"]


class StoreError(HMSWebCallError):
    """The shared store could not be reached or answered nonsense (e.g. Redis is down)."""


@dataclass(frozen=True)
class Budget:
    """A daily allowance of call seconds that an admission is charged against.

    ``name`` identifies the counter (it includes the day, so a new day starts a new counter), ``limit`` is in
    seconds, and the counter is kept ``ttl`` seconds after its last charge, long enough to settle calls that
    report after the day ended.
    """

    name: str
    limit: int
    ttl: float


@dataclass(frozen=True)
class Admission:
    """The answer to :meth:`CallStore.admit`.

    ``reason`` says which limit refused: ``"user"`` (the caller's own concurrent calls), ``"budget"`` (the
    budget at ``budget_index`` in the list given), ``"anonymous"`` (the anonymous visitors' share of the
    org's slots) or ``"org"``. ``retry_after`` is the number of seconds until the soonest slot counted against
    that limit expires (at least 1), or ``None`` when admitted, for budgets, or when no slot will ever
    free up.
    """

    admitted: bool
    reason: RefusalReason | None = None
    retry_after: int | None = None
    budget_index: int | None = None


@dataclass(frozen=True)
class ActionBatch:
    """The answer to :meth:`CallStore.read_actions`: page actions as ``(id, JSON text)`` in order, and whether
    the call's action log has ended (nothing more will come)."""

    events: tuple[tuple[str, str], ...] = ()
    ended: bool = False


class CallStore(Protocol):
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
        """Atomically drop expired slots, then reserve ``slot_id`` for ``user_key`` until now + ``ttl`` and
        charge ``reserve`` seconds to every budget, if the user holds fewer than ``max_per_user`` slots, no
        budget would go over its limit, anonymous callers hold fewer than ``max_anonymous`` slots (when
        ``anonymous``) and the org fewer than ``max_org``. ``slot_id`` is new: one per attempt."""

    def bind(self, slot_id: str, call_id: str, *, ttl: float, record_ttl: float = RECORD_TTL) -> None:
        """Record that ``slot_id`` became the upstream call ``call_id``; slot and mapping now expire after
        ``ttl``. Who made the call and what it reserved are kept ``record_ttl`` seconds, for settling and for
        feedback. Does nothing when the slot is no longer held."""

    def release_slot(self, slot_id: str) -> None:
        """Free a slot whose upstream call could not be created (it was never bound), and give its
        reservation back."""

    def release_call(self, call_id: str) -> str | None:
        """Free the slot of a call that ended; the user key it belonged to, or ``None`` if unknown/already
        released. The call's reservation stays until :meth:`settle_call`."""

    def settle_call(self, call_id: str, duration_seconds: int) -> int | None:
        """Charge the call's real duration: give back what was reserved beyond it, once. The seconds given
        back, or ``None`` when the call is unknown or already settled."""

    def call_owner(self, call_id: str) -> str | None:
        """The user key that created ``call_id``, while its record is kept (``record_ttl``, see ``bind``)."""

    def spend_once(self, key: str, *, ttl: float) -> bool:
        """``True`` the first time ``key`` is spent in ``ttl`` seconds, ``False`` after: one-time proofs
        (challenge solutions) and one-time actions (feedback)."""

    def remember_once(self, key: str, value: str, *, ttl: float) -> str | None:
        """Keep ``value`` under ``key`` for ``ttl`` seconds unless a value is kept there already: ``None``
        when kept now, else the value kept first (unchanged). A one-time action that later steps check
        against (the rating a comment is added to)."""

    def claim_delivery(self, key: str, *, ttl: float) -> bool:
        """Start handling a webhook delivery; ``False`` if it was handled or is being handled. An unfinished
        claim lapses after ``ttl`` so a crashed handler does not block retries for long."""

    def complete_delivery(self, key: str, *, ttl: float) -> None:
        """Mark a delivery handled; duplicates arriving in the next ``ttl`` seconds are refused."""

    def abandon_delivery(self, key: str) -> None:
        """The handler failed: let a retry of the delivery run again (no effect on a completed delivery)."""

    def delivery_handled(self, key: str) -> bool: ...

    def publish_action(self, call_id: str, data: str, *, ttl: float) -> str:
        """Append one page action (JSON text) to the call's action log, kept ``ttl`` seconds; its id, which
        sorts after every earlier id of that call. Readers waiting in :meth:`read_actions` wake up."""

    def end_actions(self, call_id: str, *, ttl: float) -> None:
        """Close the call's action log: readers get what is left, then ``ended``."""

    def read_actions(self, call_id: str, after: str | None, *, timeout: float) -> ActionBatch:
        """The actions after the id ``after`` (all of them for ``None``), waiting up to ``timeout`` seconds
        for one when there is none yet and the log has not ended."""

    def open_tool_request(self, call_id: str, request_id: str, *, limit: int, ttl: float) -> bool:
        """Let the page tool request ``request_id`` of ``call_id`` wait ``ttl`` seconds for its answer;
        ``False`` (nothing kept) when ``limit`` requests of that call are waiting already."""

    def answer_tool_request(self, call_id: str, request_id: str, answer: str, *, ttl: float) -> bool:
        """Hand ``answer`` to the waiting request ``request_id`` of ``call_id``, once: ``False`` when no such
        request of that call is waiting (unknown, answered already, closed or its time is up)."""

    def take_tool_answer(self, call_id: str, request_id: str, *, timeout: float) -> str | None:
        """The answer of ``request_id``, waiting up to ``timeout`` seconds (more than 0) for it."""

    def close_tool_request(self, call_id: str, request_id: str) -> str | None:
        """Stop waiting for ``request_id``: later answers are refused. The answer that came just now, if
        any."""

    def keep_value(self, key: str, value: str, *, ttl: float) -> None:
        """Keep ``value`` under ``key`` for ``ttl`` seconds, replacing what was kept (a page's targets)."""

    def kept_value(self, key: str) -> str | None:
        """What :meth:`keep_value` kept under ``key``, or ``None`` (never kept, or expired)."""


def retry_after(soonest_expiry: float | None, now: float) -> int | None:
    """Whole seconds (at least 1) until ``soonest_expiry``, or ``None`` when nothing will expire."""
    if soonest_expiry is None:
        return None
    return max(1, math.ceil(soonest_expiry - now))
