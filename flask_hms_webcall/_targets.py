"""The built-in page actions aimed at elements the page opted in (``data-hms-target="shipping-form"``):
``highlight``, ``scroll_to``, ``focus`` and ``fill``.

A site sends them like any page action (``@webcall.page_action("fill")`` returning ``{"target": ...,
"value": ...}``); before one goes into the call's log it is checked here, so an assistant's odd arguments
passed through by a handler never reach a browser: a target is a name (the widget looks it up as the
attribute's exact value, never as a selector), and a value to fill is short text. The browser decides the
rest (whether the page opted that element in, whether it is a field it may fill, the visitor's consent).
"""

from __future__ import annotations

import re
from typing import Any

from ._actions import PageActionError

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
