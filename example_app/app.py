"""The example site: a landing page with the widget, a "sign in as" box, and a Calls page.

Everything a site owner needs to copy is in :func:`create_app`: the extension, who the caller is
(``identity_loader``) and what to do with the webhooks (``on(...)``). The rest is an ordinary Flask site.
"""

from __future__ import annotations

import hmac
import os
import secrets
import time
import unicodedata
from pathlib import Path
from typing import Any

from flask import Flask, flash, redirect, render_template, request, session, url_for
from marshmallow import Schema, fields, validate

from flask_hms_webcall import (
    EndOfCallReport,
    Event,
    HMSWebCall,
    PageActionCall,
    StatusUpdate,
    ToolCalls,
    signals,
)
from flask_hms_webcall._budgets import day_name

from . import db


class OrderOnScreen(Schema):
    """What the page may answer to ``order_on_screen``: the highlighted order's number, or null."""

    order_id = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=20))


PACKAGE_DIR = Path(__file__).resolve().parent
MAX_NAME_LENGTH = 40
# The calls an anonymous visitor made from this browser, kept in their session cookie (ids only; the newest).
MAX_REMEMBERED_CALLS = 20
# Also what a visitor sees after a restart: the secret key changed, so the old session and its token are gone.
FORM_EXPIRED = "The form had expired, so nothing changed. Please try again."

# The shop behind the `lookup_order` tool: a few sample orders by number. The status reads on after
# "Order 123 is ...", as the sandbox's default rule says it.
SAMPLE_ORDERS = {
    "123": "shipped, and arrives tomorrow",
    "456": "being packed in our warehouse",
    "789": "delivered",
}

# The HMS settings a deployment sets in its environment (strings only; the rest keeps the defaults).
ENV_SETTINGS = (
    "HMS_API_KEY",
    "HMS_API_BASE_URL",
    "HMS_ASSISTANT_ID",
    "HMS_WEBHOOK_SECRET",
    "HMS_STORAGE_URI",
    "HMS_RATE_LIMIT",
)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the example app. ``config`` wins over the environment, which wins over the defaults.

    ``python -m example_app`` passes the sandbox's URL, key and webhook secret here when no HMS account is
    configured; a real deployment sets ``HMS_API_KEY`` (and friends) in the environment instead.
    """
    config = dict(config or {})
    # example_app/instance/ (gitignored) unless told otherwise; Flask's own default is outside the package.
    instance_path = (
        config.pop("INSTANCE_PATH", None)
        or os.environ.get("EXAMPLE_APP_INSTANCE")
        or PACKAGE_DIR / "instance"
    )
    app = Flask(__name__, instance_path=str(Path(instance_path).resolve()))
    app.config.update(
        # Anonymous visitors are allowed; they are rate limited by IP address instead of by name.
        HMS_REQUIRE_IDENTITY=False,
        # None: only pages of this site (the request's own origin) may start calls, which spend credits.
        HMS_ALLOWED_ORIGINS=None,
        DATABASE=str(Path(app.instance_path) / "calls.sqlite3"),
        # None: real HMS. The sandbox's base URL when `python -m example_app` runs one.
        EXAMPLE_SANDBOX_URL=None,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    app.config.from_prefixed_env()  # FLASK_SECRET_KEY and friends
    app.config.update({key: os.environ[key] for key in ENV_SETTINGS if os.environ.get(key)})
    app.config.update(config)
    if not app.config.get("SECRET_KEY"):
        # A fresh key per run: sign-ins do not survive a restart, which is fine for a demo.
        app.config["SECRET_KEY"] = secrets.token_hex(32)

    db.init_app(app)
    webcall = HMSWebCall(app)
    _register_webcall_hooks(webcall)
    # Today's minutes, from the extension's signals: what the Calls page shows against the daily caps.
    signals.call_ended.connect(_count_minutes, app)
    # Whose call is whose, so the Calls page shows each visitor their own calls only.
    signals.call_created.connect(_remember_anonymous_call, app)
    _register_pages(app)
    return app


def _register_webcall_hooks(webcall: HMSWebCall) -> None:
    @webcall.identity_loader
    def current_user() -> str | None:
        # The signed-in name becomes metadata.user_id and the key of the per-user limits.
        return session.get("name")

    @webcall.on("status-update")
    def on_status(event: StatusUpdate) -> None:
        if event.call_id:
            db.record_status(
                event.call_id,
                user_id=_user_id(event),
                status=event.status or event.call_status,
                ended_reason=_status_end_reason(event),
            )

    @webcall.on("end-of-call-report")
    def on_report(event: EndOfCallReport) -> None:
        if event.call_id:
            db.record_report(
                event.call_id,
                user_id=_user_id(event),
                ended_reason=event.ended_reason,
                duration_seconds=event.duration_seconds,
                summary=event.summary,
                transcript=_transcript(event.transcript),
            )

    @webcall.on_feedback
    def on_feedback(call_id: str, rating: str, comment: str | None, identity: str | None) -> None:
        db.record_feedback(call_id, rating=rating, comment=comment)

    @webcall.tool
    def lookup_order(arguments: dict[str, Any], event: ToolCalls) -> dict[str, str] | str:
        """The assistant asks mid-call for an order's status. A found order is an object the assistant reads
        out with its template; anything else is a sentence it says as it is."""
        order_id = "".join(ch for ch in str(arguments.get("order_id", "")) if ch.isdigit())[:20]
        status = SAMPLE_ORDERS.get(order_id)
        if status is not None:
            result: dict[str, str] | str = {"order_id": order_id, "status": status}
        elif order_id:
            result = f"I could not find order {order_id}. Our sample orders are 123, 456 and 789."
        else:
            result = "I need the order number to look it up."
        if event.call_id:
            db.record_tool_call(event.call_id, name="lookup_order", arguments=arguments, result=result)
        return result

    @webcall.page_action("show_order")
    def show_order(call: PageActionCall) -> tuple[str, dict[str, str] | None]:
        """The assistant shows an order on the caller's page: the page (static/app.js) highlights it. Only
        this call's browser gets the action, and only the order number: the page knows how to show it."""
        order_id = "".join(ch for ch in str(call.arguments.get("order_id", "")) if ch.isdigit())[:20]
        status = SAMPLE_ORDERS.get(order_id)
        if status is None:
            result, action = f"I could not find order {order_id or 'without a number'} to show.", None
        else:
            result = f"Here is order {order_id} on your screen. It is {status}."
            action = {"order_id": order_id}
        if call.call_id:
            db.record_tool_call(call.call_id, name="show_order", arguments=call.arguments, result=result)
        return result, action

    @webcall.page_tool("order_on_screen", schema=OrderOnScreen, timeout=4)
    def order_on_screen(call: PageActionCall, answer: dict[str, Any]) -> str:
        """The assistant asks the caller's page which order it shows (the one highlighted in "Your orders");
        the page answers only that number, and this server says what it knows of that order."""
        order_id = "".join(ch for ch in str(answer.get("order_id") or "") if ch.isdigit())[:20]
        status = SAMPLE_ORDERS.get(order_id)
        if not order_id:
            result = "No order is highlighted on your screen. Ask me to show you one."
        elif status is None:
            result = f"Your screen shows order {order_id}, which I do not know."
        else:
            result = f"Your screen shows order {order_id}. It is {status}."
        if call.call_id:
            db.record_tool_call(call.call_id, name="order_on_screen", arguments=answer, result=result)
        return result

    def show_target(call: PageActionCall) -> tuple[str, dict[str, str]]:
        """The widget's built-ins (highlight, scroll_to, focus, fill), aimed at what index.html opted in with
        data-hms-target. The assistant's arguments pass through: the extension checks their shape, the page
        refuses any other element, and the visitor allows or refuses each fill."""
        action = {"target": str(call.arguments.get("target", ""))}
        if call.name == "fill":
            action["value"] = str(call.arguments.get("value", ""))
        return f"Done: {call.name} {action['target']} on your screen.", action

    for name in ("highlight", "scroll_to", "focus", "fill"):
        webcall.page_action(name)(show_target)

    @webcall.tool
    def page_targets(arguments: dict[str, Any], event: ToolCalls) -> dict[str, Any]:
        """What the assistant can point at on the caller's page: the names and labels its browser reported
        (never the values of its fields)."""
        return {"targets": webcall.page_targets(event.call_id) if event.call_id else []}


def _register_pages(app: Flask) -> None:
    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response

    @app.context_processor
    def page_globals() -> dict[str, Any]:
        return {
            "user_name": session.get("name"),
            "csrf_token": _csrf_token(),
            "sandbox_url": app.config["EXAMPLE_SANDBOX_URL"],
            "hms_prefix": _url_prefix(app),
        }

    @app.get("/")
    def index():
        return render_template(
            "index.html",
            limits=_limits(app),
            sample_orders=sorted(SAMPLE_ORDERS),
            orders=sorted(SAMPLE_ORDERS.items()),
        )

    @app.post("/sign-in")
    def sign_in():
        name = _clean_name(request.form.get("name", ""))
        if not _csrf_ok():
            flash(FORM_EXPIRED, "error")
        elif name is None:
            flash(f"Type a name of 1 to {MAX_NAME_LENGTH} characters.", "error")
        else:
            session["name"] = name
            flash(f"Signed in as {name}.", "ok")
        return redirect(url_for("index"))

    @app.post("/sign-out")
    def sign_out():
        if not _csrf_ok():
            flash(FORM_EXPIRED, "error")
        else:
            session.pop("name", None)
            flash("Signed out. Calls now count against your IP address.", "ok")
        return redirect(url_for("index"))

    @app.get("/calls")
    def calls():
        # Transcripts and comments are the caller's: each visitor sees their own calls, nobody else's.
        settings = app.extensions["hms_webcall"].settings
        return render_template(
            "calls.html",
            calls=db.list_calls(user_id=session.get("name"), call_ids=session.get("calls", [])),
            usage=_usage_today(app),
            usage_day=day_name(settings, time.time()),
        )

    @app.template_filter("duration")
    def duration(seconds: int | None) -> str:
        if seconds is None:
            return "–"
        minutes, rest = divmod(int(seconds), 60)
        return f"{minutes}:{rest:02d}"

    @app.template_filter("humanize")
    def humanize(value: str | None) -> str:
        return (value or "").replace("_", " ").replace("-", " ")


def _url_prefix(app: Flask) -> str:
    return app.extensions["hms_webcall"].settings.url_prefix


def _limits(app: Flask) -> dict[str, Any]:
    settings = app.extensions["hms_webcall"].settings
    return {"max_calls_per_user": settings.max_calls_per_user, "rate_limit": settings.rate_limit}


def _count_minutes(
    app: Flask, *, call_id: str | None, duration_seconds: int | None, event: Any, **_: Any
) -> None:
    if call_id and duration_seconds is not None:
        settings = app.extensions["hms_webcall"].settings
        db.record_usage(
            call_id,
            day=day_name(settings, time.time()),
            anonymous=_user_id(event) is None,
            seconds=duration_seconds,
        )


def _remember_anonymous_call(app: Flask, *, call_id: str, identity: str | None, **_: Any) -> None:
    # Sent while the create request is handled, so its answer carries the updated session cookie.
    if identity is None:
        session["calls"] = [*session.get("calls", []), call_id][-MAX_REMEMBERED_CALLS:]


def _usage_today(app: Flask) -> list[dict[str, Any]]:
    """Minutes used today against each daily cap the site has (HMS_DAILY_MINUTES and friends)."""
    settings = app.extensions["hms_webcall"].settings
    used = db.usage_on(day_name(settings, time.time()))
    rows = [("The whole site", used["all"], settings.daily_minutes)]
    rows.append(("Anonymous visitors", used["anonymous"], settings.anonymous_daily_minutes))
    return [
        {"label": label, "minutes": round(seconds / 60, 1), "cap": cap}
        for label, seconds, cap in rows
        if cap is not None or label == "The whole site"
    ]


def _csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(24)
    return token


def _csrf_ok() -> bool:
    """The form came from one of our pages (a token only they carry), not from another site's form."""
    sent = request.form.get("csrf", "")
    return bool(sent) and hmac.compare_digest(sent, session.get("csrf", ""))


def _clean_name(raw: str) -> str | None:
    """A display name: trimmed, no control characters, not too long."""
    name = " ".join(raw.split())
    if not name or len(name) > MAX_NAME_LENGTH:
        return None
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        return None
    return name


# The events are already typed; what is left to check is what HMS does not document (metadata, transcript).
def _user_id(event: Event) -> str | None:
    return _text(event.metadata.get("user_id"))


def _status_end_reason(event: StatusUpdate) -> str | None:
    # Not on the Web Calls page, but in HMS's SDK types and in the sandbox's deliveries once a call has ended:
    # the only end reason a call that never started has (it gets no end-of-call report).
    message = event.raw.get("message", {})
    for key in ("end_reason", "ended_reason", "endedReason", "endReason"):
        if _text(message.get(key)):
            return message[key]
    return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _transcript(value: Any) -> list[dict[str, str]] | None:
    """``[{role, content}]`` from the message list HMS sends (or a list of strings, or one string)."""
    if isinstance(value, str):
        return [{"role": "", "content": value}] if value else []
    if not isinstance(value, (list, tuple)):
        return None
    lines = []
    for item in value:
        if isinstance(item, str):
            lines.append({"role": "", "content": item})
        elif isinstance(item, dict):
            content = item.get("content", item.get("message", item.get("text")))
            role = item.get("role")
            if isinstance(content, str) and content:
                lines.append({"role": role if isinstance(role, str) else "", "content": content})
    return lines
