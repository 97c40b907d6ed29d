"""Fixtures shared by every test suite: strictness, free ports, real server processes, Redis, Chromium.

Firefox and the browser-engine parametrisation are in tests/fixtures/firefox.py and tests/fixtures/engines.py.
Tests that need a browser or Redis skip on a machine without them, unless HMS_TEST_STRICT=1 (CI), where a
missing dependency is a failure: a skipped test must never hide a broken CI setup.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support import StubHMS, stubbed_hms

# Process fixtures for the sandbox and the example app, and the browser engines (with the count per engine
# at the end of the run), live in their own modules.
pytest_plugins = [
    "tests.fixtures.sandbox",
    "tests.fixtures.example_app",
    "tests.fixtures.engines",
    "tests.fixtures.firefox",
]

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
STRICT = os.environ.get("HMS_TEST_STRICT") == "1"
CHROMIUM = os.environ.get("HMS_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"

# Flags for Debian's Chromium in tests: fake mic, loopback WebRTC, and nothing that reaches the internet.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]


def require(condition: bool, reason: str) -> None:
    """Skip the test when ``condition`` is false, or fail it under HMS_TEST_STRICT=1."""
    if condition:
        return
    if STRICT:
        pytest.fail(f"HMS_TEST_STRICT=1 but {reason}", pytrace=False)
    pytest.skip(reason)


# pytest-xdist runs the suite in several worker processes (``make test``: one per core). A port one worker
# picked is free until its server binds it a moment later; another worker must not pick it meanwhile, so
# each worker only takes its own share of the ports: those whose half (Linux hands out odd ports for bind(0)
# and even ones for connect()) leaves its own number as remainder by the worker count.
WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))


def free_port() -> int:
    """A loopback TCP port nothing listens on, and that no other xdist worker hands out."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port: int = s.getsockname()[1]
        if port // 2 % WORKERS == WORKER:
            return port


class ServerProcess:
    """A real server in its own process, its output in a log file shown when a test fails."""

    def __init__(
        self,
        args: list[str],
        *,
        ready_url: str,
        env: dict[str, str] | None = None,
        cwd: Path = ROOT,
        timeout: float = 30.0,
        name: str = "server",
    ) -> None:
        self.args = args
        self.ready_url = ready_url
        self.name = name
        self.log_path = Path(tempfile.mkstemp(prefix=f"{name}-", suffix=".log")[1])
        self._log = self.log_path.open("wb")
        full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.proc = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT, env=full_env, cwd=cwd)
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.output()}")
            try:
                requests.get(self.ready_url, timeout=1)
                return
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer {self.ready_url} within {timeout}s:\n{self.output()}")

    def output(self) -> str:
        if self._log.closed:
            return self._final_output
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not self._log.closed:
            self._final_output = self.output()
            self._log.close()
            self.log_path.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    """A real redis-server on a free loopback port; yields its URL."""
    binary = shutil.which("redis-server")
    require(binary is not None, "redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="hms-redis-")
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            workdir,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("redis-server did not start") from None
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(10)
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def redis_url(redis_server: str) -> str:
    """The session's Redis, emptied for this test."""
    import redis

    redis.Redis.from_url(redis_server).flushall()
    return redis_server


@pytest.fixture(scope="session")
def playwright():
    """Playwright, started once per process for every engine (its sync API runs one instance per thread)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "playwright is not installed (pip install -e .[dev])")
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def chromium(playwright):
    """A Playwright Chromium browser: Debian's binary, never a downloaded one."""
    require(Path(CHROMIUM).exists(), f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def hms() -> Iterator[StubHMS]:
    """HMS's ``POST /v1/web-calls`` stubbed (``responses``): a fresh call per request, or what a test sets."""
    with stubbed_hms() as stub:
        yield stub


@pytest.fixture
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def python_exe() -> str:
    return sys.executable
