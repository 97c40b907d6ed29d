"""The built-in page actions aimed at elements the page opted in (``data-hms-target="shipping-form"``):
``highlight``, ``scroll_to``, ``focus`` and ``fill``.

A site sends them like any page action (``@webcall.page_action("fill")`` returning ``{"target": ...,
"value": ...}``); before one goes into the call's log it is checked here, so an assistant's odd arguments
passed through by a handler never reach a browser: a target is a name (the widget looks it up as the
attribute's exact value, never as a selector), and a value to fill is short text. The browser decides the
rest (whether the page opted that element in, whether it is a field it may fill, the visitor's consent).

The widget also reports the targets of the page it runs in (names and visible labels, never values) to
``{prefix}/web-calls/<id>/targets``, authorised like the action stream; the site's tool handlers read the
last report with ``webcall.page_targets(call_id)`` to tell the assistant what it can point at.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from ._actions import PageActionError, check_caller
from ._callers import Caller
from ._config import CALL_TTL
from ._state import WebCallState
from .errors import BrowserError
from .store import StoreError

log = logging.getLogger("flask_hms_webcall")

# What the built-in widget does for each name, and the arguments each takes.
TARGET_ACTIONS: dict[str, frozenset[str]] = {
    "highlight": frozenset({"target"}),
    "scroll_to": frozenset({"target"}),
    "focus": frozenset({"target"}),
    "fill": frozenset({"target", "value"}),
}
TARGET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
MAX_FILL_CHARS = 500  # longer than any form field the assistant should be typing into


def check_target_action(name: str, action: dict[str, Any]) -> None:
    """:class:`PageActionError` unless ``action`` fits the built-in ``name`` (other names pass)."""
    takes = TARGET_ACTIONS.get(name)
    if takes is None:
        return
    if set(action) != takes:
        wanted = ", ".join(sorted(takes))
        raise PageActionError(f"the built-in {name!r} takes exactly {{{wanted}}}, not {sorted(action)}")
    target = action["target"]
    if not isinstance(target, str) or not TARGET_NAME.match(target):
        raise PageActionError(
            f"the target of {name!r} must be 1-64 letters, digits, '_' or '-', a letter or digit first"
        )
    if name == "fill":
        value = action["value"]
        if not isinstance(value, str):
            raise PageActionError(f"the value of 'fill' must be text, not {type(value).__name__}")
        if len(value) > MAX_FILL_CHARS:
            raise PageActionError(f"the value of 'fill' is {len(value)} characters, over {MAX_FILL_CHARS}")


# --- The targets on the visitor's current page, as the widget reports them --------------------------------

MAX_TARGETS = 50
MAX_LABEL_CHARS = 80
MAX_REPORT_BYTES = 16 * 1024  # 50 names and labels, with room for JSON's escapes


def _key(call_id: str) -> str:
    return f"targets:{call_id}"


def report_targets(state: WebCallState, caller: Caller, call_id: str, token: str | None, body: bytes) -> None:
    """Keep the targets the call's browser reports (``{"targets": [{"name", "label"}, ...]}``), replacing its
    last report. Only the call's creator may report, exactly as only they may read its actions; a report
    that is not that shape is ``invalid_request`` and changes nothing."""
    check_caller(state, caller, call_id, token)
    try:
        data = json.loads(body)
    except ValueError:
        raise BrowserError("invalid_request", "The body must be JSON.") from None
    targets = data.get("targets") if isinstance(data, dict) else None
    if not isinstance(targets, list) or len(targets) > MAX_TARGETS:
        raise BrowserError("invalid_request", f"'targets' must be a list of at most {MAX_TARGETS}.")
    kept = []
    for item in targets:
        name = item.get("name") if isinstance(item, dict) else None
        label = item.get("label") if isinstance(item, dict) else None
        if not isinstance(name, str) or not TARGET_NAME.match(name) or not isinstance(label, str):
            raise BrowserError("invalid_request", "Each target is {'name': a target name, 'label': text}.")
        kept.append({"name": name, "label": " ".join(label.split())[:MAX_LABEL_CHARS]})
    try:
        state.store.keep_value(_key(call_id), json.dumps(kept), ttl=CALL_TTL)
    except StoreError:
        log.exception("the call store failed to keep the targets of call %s", call_id)
        raise BrowserError("unavailable") from None


def page_targets(state: WebCallState, call_id: str) -> list[dict[str, str]]:
    """The targets the call's browser last reported (``[]`` before any report); ``StoreError``."""
    kept = state.store.kept_value(_key(call_id))
    return json.loads(kept) if kept else []
