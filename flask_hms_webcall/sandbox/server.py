"""The sandbox as one aiohttp application, and the two ways to serve it: in the foreground or in a thread.

``create_app`` assembles the shared state (``app["config"]``, ``app["registry"]``, ``app["tokens"]``,
``app["faults"]``, plus ``app["webhooks"]`` and ``app["assistants"]``), the HMS API face, the control
routes and the media face. The listening socket is bound before the app is built so that ``--port 0``
works: the config, and so every ``server_url`` handed out, carries the real port.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import socket
import threading
import warnings
from collections.abc import Callable

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.typedefs import Handler

from ..hms import WEB_CALLS_PATH
from . import api, control
from .assistants import saved_assistants
from .calls import CallRegistry
from .config import SandboxConfig
from .faults import Faults
from .tokens import TokenAuthority
from .webhooks import WebhookNotifier, redact_url

log = logging.getLogger("flask_hms_webcall.sandbox")

# Seconds open connections (media websockets) get to close when the sandbox stops.
SHUTDOWN_TIMEOUT = 2.0
_JSON_PREFIXES = ("/v1/", "/_sandbox/")


class AccessLogger(AbstractAccessLogger):
    """One line per request, without the query string: media joins carry the access token there."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info("%s %s -> %s (%.0f ms)", request.method, request.path, response.status, time * 1000)


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer every failure of the API and control routes as ``{"detail": ...}``, never a stack trace."""
    if not request.path.startswith(_JSON_PREFIXES):
        return await handler(request)
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = api.error(exc.status, exc.reason)
        if "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
        return response
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        if request.path == WEB_CALLS_PATH:
            return api.error(500, api.CREATE_FAILED + "internal sandbox error")
        return api.error(500, "Internal sandbox error")


def _add_media(app: web.Application) -> None:
    try:
        from .media import add_routes
    except ImportError as exc:
        raise RuntimeError(
            f"the sandbox's media face cannot be imported ({exc}); "
            "install the sandbox extra: pip install 'flask-hms-webcall[sandbox]'"
        ) from exc
    add_routes(app)
    _log_speech(app["config"])


def _log_speech(config: SandboxConfig) -> None:
    """Say once which voice and ears the assistant has, so a sandbox speaking in tones explains itself.

    Every partial speech stack (one package missing, or one that does not load) gets one line naming what
    is missing and the extra that brings it, as the assistant cannot understand words without the ears.
    """
    from .media import espeak, recognizer

    if not config.speech:
        log.info("speech off (--no-speech): the assistant speaks in tones and detects speech by energy")
        return
    mouth, ears = espeak.available(), recognizer.available()
    if mouth and ears:
        log.info("the assistant speaks with eSpeak NG and listens with PocketSphinx")
        return
    voice = "speaks with eSpeak NG" if mouth else "speaks in tones (eSpeak NG is missing)"
    hearing = (
        "understands words with PocketSphinx"
        if ears
        else "cannot understand words, it only detects speech by energy (PocketSphinx is missing)"
    )
    log.warning(
        "the assistant %s and %s: for both, pip install 'flask-hms-webcall[sandbox-speech]'", voice, hearing
    )


def create_app(config: SandboxConfig | None = None) -> web.Application:
    """The whole sandbox (both faces and the control routes) as an aiohttp application."""
    config = config or SandboxConfig()
    app = web.Application(middlewares=[json_errors, control.require_key])
    notifier = WebhookNotifier(config)
    registry = CallRegistry(config, notifier)
    # The faces share state under these string keys (the team contract), so aiohttp's AppKey advice is moot.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", web.NotAppKeyWarning)
        app["config"] = config
        app["registry"] = registry
        app["tokens"] = TokenAuthority()
        app["faults"] = Faults.from_config(config)
        app["webhooks"] = notifier
        app["assistants"] = saved_assistants(config)

    async def start_webhooks(app: web.Application) -> None:
        await notifier.start()

    async def stop_timers(app: web.Application) -> None:
        await registry.close()

    async def flush_webhooks(app: web.Application) -> None:
        await notifier.close()

    app.on_startup.append(start_webhooks)
    app.on_shutdown.append(stop_timers)
    app.on_cleanup.append(flush_webhooks)
    api.add_routes(app)
    control.add_routes(app)
    _add_media(app)
    return app


def bind(config: SandboxConfig) -> tuple[socket.socket, SandboxConfig]:
    """Reserve the address; return the socket with the config carrying the port actually bound.

    The socket is not listening yet (the site starts that once the app is built), so a readiness probe
    during start-up is refused at once instead of hanging in the backlog.
    """
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((config.host, config.port))
    except OSError:
        sock.close()
        raise
    return sock, dataclasses.replace(config, port=sock.getsockname()[1])


async def serve(
    config: SandboxConfig,
    sock: socket.socket,
    stop: asyncio.Event,
    on_started: Callable[[web.Application], None] = lambda app: None,
) -> None:
    """Serve the sandbox on ``sock`` until ``stop`` is set, then shut down cleanly."""
    app = create_app(config)
    runner = web.AppRunner(app, access_log_class=AccessLogger, shutdown_timeout=SHUTDOWN_TIMEOUT)
    await runner.setup()
    try:
        await web.SockSite(runner, sock).start()
        on_started(app)
        await stop.wait()
    finally:
        await runner.cleanup()


def banner(config: SandboxConfig) -> str:
    saved = ", ".join(a for a in saved_assistants(config) if a != config.assistant_id)
    if config.webhook_url:
        signed = "signed" if config.webhook_secret else "unsigned: no --webhook-secret"
        webhooks = f"{redact_url(config.webhook_url)} ({signed})"
    else:
        webhooks = "none (no --webhook-url)"
    lines = [
        "HMS sandbox: an offline stand-in for HMS Sovereign web calls",
        f"  API base URL:  {config.api_base_url}   (POST /v1/web-calls)",
        f"  API key:       {config.api_key}",
        f"  Assistant id:  {config.assistant_id}",
        *([f"  More assistants: {saved}"] if saved else []),
        f"  Media server:  {config.server_url}",
        f"  Webhooks:      {webhooks}",
        f"  Control:       {config.api_base_url}/_sandbox/  (health, calls, stats, faults, webhooks)",
        "Press Ctrl+C to stop.",
    ]
    return "\n".join(lines)


def run(config: SandboxConfig | None = None) -> None:
    """Serve the sandbox in the foreground until SIGINT or SIGTERM; print the banner once listening."""
    import signal

    sock, config = bind(config or SandboxConfig())

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            # Not every platform has signal handlers on the loop; there Ctrl+C still stops asyncio.run.
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        await serve(config, sock, stop, lambda app: print(banner(config), flush=True))

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


class SandboxHandle:
    """A sandbox running in a background thread (see :func:`start_in_thread`)."""

    def __init__(
        self,
        config: SandboxConfig,
        app: web.Application,
        loop: asyncio.AbstractEventLoop,
        stop: asyncio.Event,
        thread: threading.Thread,
    ) -> None:
        self.config = config
        self.app = app
        self._loop = loop
        self._stop = stop
        self._thread = thread

    @property
    def api_base_url(self) -> str:
        return self.config.api_base_url

    @property
    def server_url(self) -> str:
        return self.config.server_url

    @property
    def api_key(self) -> str:
        return self.config.api_key

    @property
    def assistant_id(self) -> str:
        return self.config.assistant_id

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        """Shut the sandbox down and wait for its thread; calling it again does nothing."""
        if self._thread.is_alive():
            with contextlib.suppress(RuntimeError):  # the loop closed on its own meanwhile
                self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(timeout)

    def __enter__(self) -> SandboxHandle:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_in_thread(config: SandboxConfig | None = None, *, timeout: float = 30.0) -> SandboxHandle:
    """Run the sandbox on its own event loop in a daemon thread; return once it is listening.

    ``config.port`` 0 picks a free port (the handle's URLs carry it). Raises ``OSError`` when the port is
    taken and ``RuntimeError`` when the sandbox fails to start.
    """
    sock, config = bind(config or SandboxConfig())
    ready = threading.Event()
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    started: list[web.Application] = []
    failure: list[BaseException] = []

    def on_started(app: web.Application) -> None:
        started.append(app)
        ready.set()

    def main() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(serve(config, sock, stop, on_started))
        except BaseException as exc:  # reported to the starting thread, or logged if it already returned
            failure.append(exc)
            if started:
                log.exception("the sandbox stopped with an error")
        finally:
            sock.close()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
            ready.set()

    thread = threading.Thread(target=main, name=f"hms-sandbox-{config.port}", daemon=True)
    thread.start()
    if not ready.wait(timeout):
        raise RuntimeError(f"the sandbox did not start within {timeout} s")
    if not started:
        cause = failure[0] if failure else None
        raise RuntimeError(f"the sandbox failed to start: {cause!r}") from cause
    return SandboxHandle(config, started[0], loop, stop, thread)
