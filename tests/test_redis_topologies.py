"""Redis as operators run it, with Debian's redis-server on loopback: a 3-master Redis Cluster
(``redis+cluster://``), a Sentinel-watched primary (``redis+sentinel://``), a Redis that freezes (SIGSTOP),
and an AOF-backed Redis (deploy/redis.conf) that restarts mid-run.

Each goes through the extension, as a visitor and HMS see it: creates admitted up to the limits, the rate
limit counted, webhook deliveries de-duplicated; a frozen Redis answered with ``503 unavailable`` on both
routes within HMS_REDIS_TIMEOUT + 1 s; a restart that forgets nothing.
"""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses
from flask import Flask, request

from flask_hms_webcall import HMSWebCall
from flask_hms_webcall.signature import delivery_headers
from tests.conftest import ROOT, free_port, require
from tests.support import SECRET, configured_app

pytestmark = pytest.mark.redis

HMS_URL = "https://assistant-api.hmsovereign.com/v1/web-calls"
REDIS_TIMEOUT = 1.0
CLUSTER_NODE = ("--cluster-enabled", "yes", "--cluster-node-timeout", "2000", "--appendonly", "no")


def redis_binary() -> str:
    binary = shutil.which("redis-server")
    require(binary is not None, "redis-server is not installed (apt-get install redis-server)")
    return binary  # type: ignore[return-value]


def cluster_port() -> int:
    """A free port whose cluster bus port (port + 10000) is valid and free too."""
    while True:
        port = free_port()
        if port + 10000 > 65535:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        return port


def wait_port(port: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server on {port} did not start") from None
            time.sleep(0.05)


class RedisProcess:
    """One redis-server on loopback; ``extra`` are its settings (``--name value`` pairs or a config file)."""

    def __init__(self, workdir: Path, *extra: str, port: int | None = None) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.extra = extra
        self.start()

    def start(self) -> None:
        args = [redis_binary(), *self.extra, "--port", str(self.port), "--bind", "127.0.0.1"]
        args += ["--dir", str(self.workdir), "--save", ""]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port, self.proc)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(10)


@pytest.fixture
def workdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="hms-redis-topology-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A Redis Cluster of 3 masters; yields its ``redis+cluster://`` URL (two of the nodes, as seeds)."""
    workdir = Path(tempfile.mkdtemp(prefix="hms-redis-cluster-"))
    nodes = []
    try:
        for n in range(3):
            node_dir = workdir / str(n)
            node_dir.mkdir()
            nodes.append(RedisProcess(node_dir, *CLUSTER_NODE, port=cluster_port()))
        _form_cluster([node.port for node in nodes])
        yield f"redis+cluster://127.0.0.1:{nodes[0].port},127.0.0.1:{nodes[1].port}"
    finally:
        for node in nodes:
            node.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def _form_cluster(ports: list[int]) -> None:
    """The three nodes meet, split the 16384 slots between them, and agree that the cluster is up."""
    import redis

    clients = [redis.Redis(port=port) for port in ports]
    for client in clients[1:]:
        client.execute_command("CLUSTER", "MEET", "127.0.0.1", ports[0])
    per_node = 16384 // len(ports)
    for n, client in enumerate(clients):
        last = 16383 if n == len(ports) - 1 else (n + 1) * per_node - 1
        client.execute_command("CLUSTER", "ADDSLOTSRANGE", n * per_node, last)
    deadline = time.monotonic() + 20
    while not all(b"cluster_state:ok" in client.execute_command("CLUSTER", "INFO") for client in clients):
        assert time.monotonic() < deadline, "the Redis Cluster did not come up"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def sentinel() -> Iterator[str]:
    """A primary watched by one Sentinel; yields the ``redis+sentinel://`` URL of its service."""
    workdir = Path(tempfile.mkdtemp(prefix="hms-redis-sentinel-"))
    primary = RedisProcess(workdir, "--appendonly", "no")
    config = workdir / "sentinel.conf"
    config.write_text(
        f"sentinel monitor hms 127.0.0.1 {primary.port} 1\nsentinel down-after-milliseconds hms 5000\n"
    )
    watcher = RedisProcess(workdir, str(config), "--sentinel")
    try:
        import redis

        deadline = time.monotonic() + 10
        while True:
            masters = redis.Redis(port=watcher.port).execute_command("SENTINEL", "MASTERS")
            if masters:
                break
            assert time.monotonic() < deadline, "Sentinel never saw the primary"
            time.sleep(0.1)
        yield f"redis+sentinel://127.0.0.1:{watcher.port}/hms"
    finally:
        watcher.stop()
        primary.stop()
        shutil.rmtree(workdir, ignore_errors=True)


# ------------------------------------------------------------------------------------------ the app


@pytest.fixture
def hms() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        counter = iter(range(1, 10**6))

        def answer(_request):
            n = next(counter)
            call = {
                "call_id": f"call-{n}",
                "room_name": f"web-{n}",
                "token": f"jwt-{n}",
                "server_url": "wss://rtc",
            }
            return 200, {}, json.dumps(call)

        mock.add_callback(responses.POST, HMS_URL, callback=answer)
        yield mock


def make_app(storage_uri: str, **config) -> tuple[Flask, list]:
    """An app on ``storage_uri`` whose visitors are named by ``?as=``; the list collects dispatched events."""
    settings = {
        "HMS_STORAGE_URI": storage_uri,
        "HMS_REDIS_TIMEOUT": REDIS_TIMEOUT,
        "HMS_MAX_CONCURRENT_CALLS": 2,
        "HMS_MAX_CALLS_PER_USER": 1,
        "HMS_RATE_LIMIT": "3 per minute",
    }
    app = configured_app(**{**settings, **config})
    webcall = HMSWebCall(app)
    seen: list = []
    webcall.identity_loader(lambda: request.args.get("as"))
    webcall.on()(seen.append)
    return app, seen


def create(app: Flask, visitor: str):
    return app.test_client().post(f"/hms/web-calls?as={visitor}", json={})


def deliver(app: Flask, call_id: str, status: str = "in-progress"):
    body = json.dumps(
        {"message": {"type": "status-update", "status": status, "call": {"id": call_id, "type": "web_call"}}}
    ).encode()
    return app.test_client().post(
        "/hms/webhooks", data=body, headers=delivery_headers("status-update", body, SECRET)
    )


def cluster_client(storage_uri: str) -> Any:
    """A redis-py client of the cluster behind a ``redis+cluster://`` URI (through its first node)."""
    import redis

    return redis.cluster.RedisCluster.from_url("redis://" + storage_uri.split("//")[1].split(",")[0])


def cluster_keys(client: Any, pattern: str) -> list[bytes]:
    """The keys matching ``pattern`` on every primary of the cluster."""
    return [key for node in client.get_primaries() for key in client.get_redis_connection(node).keys(pattern)]


def flush_all(storage_uri: str) -> None:
    import redis

    if storage_uri.startswith("redis+cluster://"):
        client = cluster_client(storage_uri)
        client.flushall(target_nodes=redis.cluster.RedisCluster.PRIMARIES)
    else:
        port = int(storage_uri.split(":")[-1].split("/")[0])
        sentinel = redis.Sentinel([("127.0.0.1", port)])
        sentinel.master_for("hms").flushall()


def check_limits_and_deliveries(storage_uri: str) -> None:
    """What every topology must do: org and per-user limits, the rate limit, de-duplicated deliveries,
    and a slot freed by the final webhook."""
    flush_all(storage_uri)
    app, seen = make_app(storage_uri)
    first, second = create(app, "ann"), create(app, "bob")
    assert (first.status_code, second.status_code) == (201, 201), first.get_data(as_text=True)
    assert create(app, "ann").json["error"]["code"] == "too_many_calls"
    assert create(app, "cid").json["error"]["code"] == "busy"
    # Another app (another worker) on the same Redis sees the same calls.
    other, _ = make_app(storage_uri)
    assert create(other, "dan").json["error"]["code"] == "busy"

    call_id = first.json["call_id"]
    assert deliver(app, call_id).json == {"ok": True}
    assert deliver(other, call_id).json == {"ok": True, "duplicate": True}
    assert len(seen) == 1
    assert deliver(app, call_id, "ended").status_code == 200
    assert create(other, "cid").status_code == 201  # the ended call's slot is free again

    for _ in range(3):  # HMS_RATE_LIMIT: three attempts a minute, whatever their outcome
        create(app, "eve")
    limited = create(app, "eve")
    assert limited.status_code == 429 and limited.json["error"]["code"] == "rate_limited"


def test_a_redis_cluster_holds_the_limits_and_the_deliveries(cluster, hms):
    check_limits_and_deliveries(cluster)


def test_a_redis_cluster_carries_page_actions(cluster):
    """The action log of a call (a stream, read with a blocking XREAD) works on a cluster, in the slot of
    every other key of the store."""
    from flask_hms_webcall.store import RedisCallStore
    from tests.test_page_actions import check_action_log

    flush_all(cluster)
    check_action_log(RedisCallStore.from_url(cluster))
    client = cluster_client(cluster)
    keys = cluster_keys(client, "*actions*")
    assert len(keys) == 2 and {client.keyslot(key) for key in keys} == {client.keyslot("{hms_webcall}:org")}


def test_a_sentinel_watched_redis_holds_the_limits_and_the_deliveries(sentinel, hms):
    check_limits_and_deliveries(sentinel)


def test_the_store_keys_of_a_cluster_share_one_hash_slot(cluster, hms):
    flush_all(cluster)
    app, _ = make_app(cluster)
    assert create(app, "ann").status_code == 201
    client = cluster_client(cluster)
    keys = cluster_keys(client, "*hms*")
    store_keys = [key for key in keys if key.startswith(b"{")]
    assert store_keys and len({client.keyslot(key) for key in store_keys}) == 1


# ------------------------------------------------------------------------------------ failing Redis


def test_a_frozen_redis_gets_503_on_both_routes_within_the_timeout(workdir, hms):
    server = RedisProcess(workdir, "--appendonly", "no")
    url = f"redis://127.0.0.1:{server.port}/0"
    app, seen = make_app(url)
    assert create(app, "ann").status_code == 201  # connections are open and pooled before the freeze
    server.proc.send_signal(signal.SIGSTOP)
    try:
        for name, send in (
            ("create", lambda: create(app, "bob")),
            ("webhook", lambda: deliver(app, "call-x")),
        ):
            started = time.monotonic()
            response = send()
            elapsed = time.monotonic() - started
            assert response.status_code == 503, f"{name}: {response.get_data(as_text=True)}"
            assert response.json["error"]["code"] == "unavailable"
            assert elapsed < REDIS_TIMEOUT + 1, f"{name} took {elapsed:.1f} s"
    finally:
        server.proc.send_signal(signal.SIGCONT)
        server.stop()
    assert seen == []  # an event the store could not de-duplicate is left for HMS's retry


def test_an_aof_redis_restarted_mid_run_forgets_no_call_and_no_delivery(workdir, hms):
    # deploy/redis.conf as shipped (AOF, appendfsync everysec), on a port of our own.
    server = RedisProcess(workdir, str(ROOT / "deploy" / "redis.conf"))
    url = f"redis://127.0.0.1:{server.port}/0"
    app, seen = make_app(url)
    live = [create(app, "ann"), create(app, "bob")]
    assert [response.status_code for response in live] == [201, 201]
    assert deliver(app, live[0].json["call_id"]).json == {"ok": True}

    time.sleep(1.5)  # appendfsync everysec: what happened more than a second ago is on disk
    server.stop(signal.SIGKILL)  # a crash, not a clean shutdown
    server.start()

    assert create(app, "cid").json["error"]["code"] == "busy"  # both calls are still live: no over-admission
    again = deliver(app, live[0].json["call_id"])
    assert again.json == {"ok": True, "duplicate": True}  # handled before the restart: not dispatched again
    assert len(seen) == 1
    server.stop()


@pytest.mark.parametrize(
    ("uri", "problem"),
    [
        ("redis+cluster://:hunter2pw@127.0.0.1:{port}", "cannot be reached"),
        ("redis+cluster://:hunter2pw@nohostport", "host:port"),
        ("redis+sentinel://:hunter2pw@127.0.0.1:{port}", "name the Sentinel service"),
    ],
)
def test_an_unusable_cluster_or_sentinel_url_is_refused_at_init_app(uri, problem):
    from flask_hms_webcall import ConfigurationError

    with pytest.raises(ConfigurationError) as info:
        make_app(uri.format(port=free_port()))
    assert problem in str(info.value)
    assert "hunter2pw" not in str(info.value)
