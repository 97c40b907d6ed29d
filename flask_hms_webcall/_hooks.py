"""What the site owner registers, and what their hooks receive: :class:`Hooks` (filled by
:class:`HMSWebCall <flask_hms_webcall.HMSWebCall>`'s decorators, one object shared by every app it is
initialised on), the :class:`CallRequest` a ``before_create`` hook may change and the :class:`PageActionCall`
a page action's handler is given.

Only data lives here, nothing that reads the app's state: the modules that run the hooks import these types,
never the other way round.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .events import Event, ToolCalls

__all__ = ["CallRequest", "FeedbackHandler", "Hooks", "PageActionCall", "PageTool"]


@dataclass
class CallRequest:
    """One visitor's request for a call, as the ``before_create`` hooks see it.

    Hooks may set ``override`` (fields of ``assistant_override``: ``first_message``, ``llm_config``...),
    ``metadata`` (echoed in every webhook of the call) and ``assistant_id``. ``metadata["user_id"]`` is
    always replaced by the identity loader's value after the hooks ran, so it cannot be spoofed; so are the
    extension's own entries (``consent_version``, ``consent_at``).
    """

    identity: str | None
    assistant: str | None
    assistant_id: str | None
    context: dict[str, str]
    override: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)

    def upstream_body(self, fixed_metadata: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Reference mode, or hybrid mode as soon as there is anything to override or attach."""
        body: dict[str, Any] = {} if self.assistant_id is None else {"assistant_id": self.assistant_id}
        extra = self.override.get("metadata") if isinstance(self.override, dict) else None
        if extra is None:
            # A hook writing ``override["metadata"] = None`` means "no metadata of mine": user_id still goes.
            extra = {}
        for value in (self.override, extra, self.metadata, self.context):
            if not isinstance(value, dict):
                # A hook left something that is not an object: the schema check that follows refuses it,
                # so nothing is sent (and user_id cannot go missing unnoticed).
                body["assistant_override"] = {"metadata": value}
                return body
        override = {key: value for key, value in self.override.items() if key != "metadata"}
        metadata = {**extra, **self.metadata}
        if self.context:
            metadata["context"] = dict(self.context)
        metadata.update(fixed_metadata or {})
        metadata.pop("user_id", None)
        if self.identity is not None:
            metadata["user_id"] = self.identity
        if metadata:
            override["metadata"] = metadata
        if override:
            body["assistant_override"] = override
        return body


@dataclass(frozen=True)
class PageActionCall:
    """One tool call of a page action, as its handler receives it."""

    name: str
    tool_call_id: str
    call_id: str | None
    arguments: dict[str, Any]
    metadata: dict[str, Any]
    event: Any  # the whole ToolCalls event


@dataclass(frozen=True)
class PageTool:
    """A tool the caller's page answers (``@webcall.page_tool``): the owner's function, which turns the
    page's answer into the assistant's result, the marshmallow schema the answer must pass (unknown fields
    excluded) and the seconds the page is given."""

    func: Callable[[PageActionCall, Any], Any]
    schema: Any  # a marshmallow Schema instance
    timeout: float


FeedbackHandler = Callable[[str, str, "str | None", "str | None"], Any]


@dataclass
class Hooks:
    """Everything the site owner registered with the extension's decorators."""

    identity_loader: Callable[[], Any] | None = None
    before_create: list[Callable[[CallRequest], Any]] = field(default_factory=list)
    handlers: list[tuple[str | None, Callable[[Event], Any]]] = field(default_factory=list)
    tools: dict[str, Callable[[dict[str, Any], ToolCalls], Any]] = field(default_factory=dict)
    challenge_verifier: Callable[[str], bool] | None = None
    feedback_handlers: list[FeedbackHandler] = field(default_factory=list)
    page_actions: dict[str, Callable[[PageActionCall], Any]] = field(default_factory=dict)
    page_tools: dict[str, PageTool] = field(default_factory=dict)

    def has_page_stream(self) -> bool:
        """Whether calls follow a stream from the server: page actions or page tools registered."""
        return bool(self.page_actions or self.page_tools)
