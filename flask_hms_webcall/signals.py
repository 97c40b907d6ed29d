"""Signals for the site owner (blinker, as Flask and Flask-Login use them). Every signal is sent with the app
as its sender and keyword arguments as listed; connect with ``call_created.connect(receiver, app)``.

========================  ==========================================================================
``call_created``          ``call_id``, ``identity`` (``None``: anonymous), ``caller`` (the caller key),
                          ``max_duration`` (seconds)
``call_refused``          ``code`` (the browser error code), ``identity``, ``caller`` (the caller key
                          the request would have had)
``call_ended``            ``call_id``, ``duration_seconds`` (``None`` when not reported), ``ended_reason``,
                          ``event`` (the end-of-call-report)
``webhook_received``      ``event``: every verified delivery, before its handlers run (duplicates too)
``webhook_failed``        ``event``, ``exception``: a handler raised; HMS gets a 500 and may retry
``budget_exhausted``      ``scope`` (``"site"``, ``"anonymous"`` or ``"user"``), ``caller``,
                          ``retry_after`` (seconds until the budget day ends)
``feedback_received``     ``call_id``, ``rating`` (``"up"``/``"down"``), ``comment``, ``identity``,
                          ``follow_up`` (``True``: a comment added to the rating given before, which
                          it repeats; sent once for the rating and at most once for such a comment)
========================  ==========================================================================

Receivers are the site's code, the answers are the visitor's and HMS's: a receiver that raises is logged
(logger ``flask_hms_webcall``, the receiver's qualified name, the traceback) and the other receivers still
run; what the visitor or HMS is answered never changes.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any

from blinker import NamedSignal

__all__ = [
    "budget_exhausted",
    "call_created",
    "call_ended",
    "call_refused",
    "feedback_received",
    "webhook_failed",
    "webhook_received",
]

log = logging.getLogger("flask_hms_webcall")


class IsolatedSignal(NamedSignal):
    """A blinker signal whose receivers cannot fail the sender: each one that raises is logged and skipped.

    By the time a signal is sent the call exists, the delivery is claimed or the refusal is decided; a
    receiver's bug must not turn that into a 500 (a created call would hold the visitor's slot unanswered,
    a webhook would never be handled)."""

    def send(
        self,
        sender: Any | None = None,
        /,
        *,
        _async_wrapper: Callable[[Callable[..., Any]], Callable[..., Any]] | None = None,
        **kwargs: Any,
    ) -> list[tuple[Callable[..., Any], Any]]:
        # Nobody listening, the usual case, costs one check (blinker's receivers_for builds a generator).
        if self.is_muted or not self.receivers:
            return []
        results = []
        for receiver in self.receivers_for(sender):
            try:
                if inspect.iscoroutinefunction(receiver):
                    if _async_wrapper is None:
                        raise RuntimeError("Cannot send to a coroutine function.")
                    result = _async_wrapper(receiver)(sender, **kwargs)
                else:
                    result = receiver(sender, **kwargs)
            except Exception:
                log.exception("a receiver of the %s signal failed: %s", self.name, _qualified_name(receiver))
                continue
            results.append((receiver, result))
        return results


def _qualified_name(receiver: Callable[..., Any]) -> str:
    name = getattr(receiver, "__qualname__", None) or type(receiver).__qualname__
    module = getattr(receiver, "__module__", None)
    return f"{module}.{name}" if module else name


call_created = IsolatedSignal("hms-webcall-call-created")
call_refused = IsolatedSignal("hms-webcall-call-refused")
call_ended = IsolatedSignal("hms-webcall-call-ended")
webhook_received = IsolatedSignal("hms-webcall-webhook-received")
webhook_failed = IsolatedSignal("hms-webcall-webhook-failed")
budget_exhausted = IsolatedSignal("hms-webcall-budget-exhausted")
feedback_received = IsolatedSignal("hms-webcall-feedback-received")
