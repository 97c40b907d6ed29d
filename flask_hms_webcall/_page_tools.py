"""Page tools: tools the caller's own page answers, with the site's server in control.

A ``tool-calls`` delivery for a name registered with ``@webcall.page_tool`` puts a request into the call's
action log (the stream only the call's creator can read, ``_actions.py``) as a ``tool`` event, and waits,
at most the tool's ``timeout``, for the page's answer. The page's handler answers with a POST to
``{prefix}/web-calls/<call_id>/tools/<request_id>``, authorised as the stream is; the answer must pass the
tool's marshmallow schema (unknown fields dropped) and be under ``HMS_PAGE_ACTION_MAX_BYTES``; the owner's
function turns it into the assistant's result.

Between workers the store carries it: the request waits in the store (``open_tool_request``), whichever
worker takes the answer hands it over (``answer_tool_request``, once, and only while the request waits) and
the worker holding the delivery picks it up (``take_tool_answer``). A request id is the tool's name and 144
random bits: nobody can answer a request they were not sent.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from collections.abc import Callable

from marshmallow import EXCLUDE, ValidationError

from ._actions import PageActionError, check_action, check_caller
from ._callers import Caller
from ._config import CALL_TTL
from ._hooks import PageActionCall, PageTool
from ._state import WebCallState
from .errors import BrowserError
from .events import ToolCall, ToolCalls
from .store import StoreError

__all__ = [
    "MAX_PAGE_TOOL_TIMEOUT",
    "MAX_WAITING_PER_CALL",
    "TOKEN_HEADER",
    "ask",
    "take_answer",
]

log = logging.getLogger("flask_hms_webcall")

# HMS waits 10 s for a synchronous tool's answer; 2 s of that are left for the delivery's own round trip.
MAX_PAGE_TOOL_TIMEOUT = 8.0
MIN_PAGE_TOOL_TIMEOUT = 0.5
# Requests of one call waiting for its page at once; one more is answered "busy" at once, so a looping
# assistant cannot hold more of the site's worker threads than this per call.
MAX_WAITING_PER_CALL = 4
REQUEST_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}\.[A-Za-z0-9_-]{24}$")
# The anonymous creator's actions_token, sent in a header: a POST can, where the EventSource could not.
TOKEN_HEADER = "X-HMS-Actions-Token"  # noqa: S105 - a header name, not a secret

Result = Callable[[], str]


def no_answer(name: str) -> str:
    return f"Error: The page did not answer {name!r} in time."


def refused(name: str) -> str:
    return f"Error: The page's answer to {name!r} was refused."


def ask(state: WebCallState, event: ToolCalls, call: ToolCall) -> Result:
    """Send the page tool ``call`` to the call's page; what waits for (and then makes) its result text.
    Asking returns at once, so several page tools of one delivery wait together, not one after another."""
    tool = state.hooks.page_tools[call.name]
    call_id = event.call_id
    if not call_id:
        log.error("page tool %r not asked: the tool call names no call", call.name)
        return lambda: f"Error: The page tool {call.name!r} failed."
    request_id = f"{call.name}.{secrets.token_urlsafe(18)}"
    try:
        args = check_action(call.arguments, state.settings.page_action_max_bytes)
        if not state.store.open_tool_request(
            call_id, request_id, limit=MAX_WAITING_PER_CALL, ttl=tool.timeout
        ):
            log.warning(
                "page tool %r of call %s: %d requests wait already", call.name, call_id, MAX_WAITING_PER_CALL
            )
            return lambda: (
                f"Error: The page is busy: too many questions wait for it. Try {call.name!r} later."
            )
        answer_url = f"{state.settings.url_prefix}/web-calls/{call_id}/tools/{request_id}"
        request = (
            f'{{"name":{json.dumps(call.name)},"callId":{json.dumps(call_id)},"args":{args},'
            f'"request":"{request_id}","answerUrl":{json.dumps(answer_url)},'
            f'"timeout":{int(tool.timeout * 1000)}}}'
        )
        state.store.publish_action(call_id, f"tool {request}", ttl=CALL_TTL)
    except PageActionError as exc:
        log.error("page tool %r of call %s not asked: %s", call.name, call_id, exc)
        return lambda: f"Error: The page tool {call.name!r} failed."
    except StoreError:
        log.exception("the call store failed to ask page tool %r of call %s", call.name, call_id)
        return lambda: f"Error: The page tool {call.name!r} could not reach the page."
    deadline = time.monotonic() + tool.timeout
    typed = PageActionCall(call.name, call.id, call_id, call.arguments, event.metadata, event)
    return lambda: _result(state, tool, typed, request_id, deadline)


def _result(
    state: WebCallState, tool: PageTool, call: PageActionCall, request_id: str, deadline: float
) -> str:
    assert call.call_id is not None
    stored = _wait(state, call.call_id, request_id, deadline)
    if stored is None:
        log.info("page tool %r of call %s: the page did not answer in time", call.name, call.call_id)
        return no_answer(call.name)
    answer = json.loads(stored)
    if "answer" not in answer:
        return (
            refused(call.name) if "refused" in answer else f"Error: The page could not answer {call.name!r}."
        )
    try:
        data = tool.schema.load(answer["answer"], unknown=EXCLUDE)
        value = tool.func(call, data)
        return value if isinstance(value, str) else json.dumps(value, allow_nan=False, ensure_ascii=False)
    except ValidationError:
        return refused(call.name)
    except Exception:
        log.exception("page tool %r failed (call %s)", call.name, call.call_id)
        return f"Error: The page tool {call.name!r} failed."


def _wait(state: WebCallState, call_id: str, request_id: str, deadline: float) -> str | None:
    # Blocking reads shorter than the store's socket timeout (a wait is not a dead Redis), never past the
    # deadline: a delivery holds its worker no longer than the tool's timeout.
    step = max(0.05, state.settings.redis_timeout / 2)
    try:
        while (left := deadline - time.monotonic()) > 0:
            stored = state.store.take_tool_answer(call_id, request_id, timeout=min(step, left))
            if stored is not None:
                return stored
        return state.store.close_tool_request(call_id, request_id)
    except StoreError:
        log.exception("the call store failed while waiting for page tool request %s", request_id)
        return None


def take_answer(
    state: WebCallState, caller: Caller, call_id: str, request_id: str, token: str | None, body: bytes | None
) -> None:
    """The page's answer to ``request_id``, from the call's creator (``forbidden`` else, as the stream).
    An answer the tool refuses (too large, not JSON, refused by its schema) is handed over as refused, so
    the assistant hears so at once, and raises ``invalid_request``; ``not_waiting`` when no such request of
    this call waits (unknown, answered already, or too late)."""
    check_caller(state, caller, call_id, token)
    name = request_id.partition(".")[0]
    tool = state.hooks.page_tools.get(name)
    if tool is None or not REQUEST_ID.match(request_id):
        raise BrowserError("not_waiting")
    problem, stored = _checked(tool, body, state.settings.page_action_max_bytes)
    try:
        taken = state.store.answer_tool_request(call_id, request_id, stored, ttl=tool.timeout)
    except StoreError:
        log.exception("the call store failed to take a page tool answer")
        raise BrowserError("unavailable") from None
    if not taken:
        raise BrowserError("not_waiting")
    if problem is not None:
        log.warning("page tool %r of call %s: the page's answer was refused: %s", name, call_id, problem)
        raise BrowserError("invalid_request", problem)


def _checked(tool: PageTool, body: bytes | None, max_bytes: int) -> tuple[str | None, str]:
    """(what is wrong, None if nothing; what to hand over): ``{"answer": ...}`` with the schema's fields
    only, ``{"failed": true}`` for a page that could not answer, ``{"refused": true}``."""
    if body is None:
        return f"The answer is larger than {max_bytes} bytes.", '{"refused":true}'
    try:
        sent = json.loads(body)
    except (ValueError, RecursionError):
        return "The answer is not JSON.", '{"refused":true}'
    if isinstance(sent, dict) and sent.get("failed") is True:
        return None, '{"failed":true}'
    if not isinstance(sent, dict) or not isinstance(sent.get("answer"), dict):
        return 'The answer must be {"answer": {...}} or {"failed": true}.', '{"refused":true}'
    try:
        kept = tool.schema.dump(tool.schema.load(sent["answer"], unknown=EXCLUDE))
        return None, json.dumps({"answer": kept}, allow_nan=False, ensure_ascii=False)
    except (ValidationError, TypeError, ValueError):
        return "The answer does not fit the tool's schema.", '{"refused":true}'
