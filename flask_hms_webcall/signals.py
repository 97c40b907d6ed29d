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
"""

from __future__ import annotations

from blinker import Namespace

__all__ = [
    "budget_exhausted",
    "call_created",
    "call_ended",
    "call_refused",
    "feedback_received",
    "webhook_failed",
    "webhook_received",
]

_signals = Namespace()

call_created = _signals.signal("hms-webcall-call-created")
call_refused = _signals.signal("hms-webcall-call-refused")
call_ended = _signals.signal("hms-webcall-call-ended")
webhook_received = _signals.signal("hms-webcall-webhook-received")
webhook_failed = _signals.signal("hms-webcall-webhook-failed")
budget_exhausted = _signals.signal("hms-webcall-budget-exhausted")
feedback_received = _signals.signal("hms-webcall-feedback-received")
