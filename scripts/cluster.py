"""`make cluster`: Haat as several app nodes behind HAProxy, all on this machine.

It creates the PostgreSQL database if it is missing, migrates, loads the demo catalogue (like
`make run`), collects static files, then starts N app nodes in production mode (one SECRET_KEY
shared by all, so a session or CSRF token made by one node verifies on every node), HAProxy in
front of them (deploy/haproxy/haproxy.cfg), and the Celery worker and beat when the project has a
Celery app (haat/celery.py). It waits until everything answers, prints what runs where, and on
Ctrl+C or SIGTERM stops exactly the processes it started: each child runs in a process group of
its own, and only those groups are signalled.

    make cluster                         # NODES=3, balancer on http://127.0.0.1:8080/
    .venv/bin/python scripts/cluster.py --nodes 2 --port 8080 --first-node-port 8101

The cluster tests (tests/cluster/) and the bench's cluster phase (bench/cluster_bench.py) drive
the same `Cluster` class on ports of their own.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HAPROXY_TEMPLATE = ROOT / "deploy" / "haproxy" / "haproxy.cfg"
BACKEND = "haat_nodes"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/haat_cluster"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
HEALTH_PATHS = ("/healthz", "/")  # /healthz when the app has it; the home page until then

# The balancer speaks plain HTTP on 127.0.0.1 here; on real hosts TLS ends at (or before) HAProxy
# and these stay at their production defaults.
PLAIN_HTTP = {
    "SECURE_SSL_REDIRECT": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
    "SECURE_HSTS_SECONDS": "0",
}
# What `check --deploy` must accept for that: the four HTTPS warnings, and the test payment
# gateway (haat.E001, from the production defaults) because this cluster is a demo shop.
SILENCED_CHECKS = "security.W004,security.W008,security.W012,security.W016,haat.E001"
# Variables of the caller that must not leak into the cluster's processes.
NOT_INHERITED = {"DJANGO_ALLOW_ASYNC_UNSAFE", "TEST_DATABASE_NAME", "HAAT_TEST_STORE"}


class ClusterError(RuntimeError):
    """Something the cluster needs did not start or did not answer in time."""


# ------------------------------------------------------------------------------ commands
def node_command(*, port: int, workers: int) -> list[str]:
    """How one app node serves HTTP: what `make prod` runs (granian with Django's WSGI handler;
    granian reads requests before a worker runs them, so slow clients hold no worker), on one
    port of 127.0.0.1. Keep it in step with the
    Makefile's `prod` target."""
    return [
        str(BIN / "granian"),
        "--interface",
        "wsgi",
        "haat.wsgi:application",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-ws",
        "--http1-header-read-timeout",
        "10000",
        "--workers-kill-timeout",
        "10",
        "--access-log",
    ]


def worker_command(*, hostname: str) -> list[str]:
    return [
        str(BIN / "celery"),
        "-A",
        "haat",
        "worker",
        "--loglevel",
        "INFO",
        "--concurrency",
        "2",
        "--hostname",
        hostname,
    ]


def beat_command(*, run_dir: Path) -> list[str]:
    return [
        str(BIN / "celery"),
        "-A",
        "haat",
        "beat",
        "--loglevel",
        "INFO",
        "--schedule",
        str(run_dir / "celerybeat-schedule"),
        "--pidfile",
        str(run_dir / "celerybeat.pid"),
    ]


def haproxy_binary() -> str:
    found = shutil.which("haproxy") or (
        "/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else ""
    )
    if not found:
        raise ClusterError("HAProxy is not installed: apt-get install haproxy (Debian's package).")
    return found


def has_celery_app() -> bool:
    """The project has a Celery app (haat/celery.py) and Celery is installed."""
    return (ROOT / "haat" / "celery.py").exists() and (BIN / "celery").exists()


def render_haproxy_config(template: str, servers: Sequence[tuple[str, int]]) -> str:
    """The repository's config with its `server` lines replaced by one line per node."""
    lines = [line for line in template.splitlines() if not re.match(r"\s*server\s", line)]
    marker = next((i for i, line in enumerate(lines) if line.strip().startswith("# nodes:")), None)
    if marker is None:
        raise ClusterError(f"{HAPROXY_TEMPLATE} has no '# nodes:' line to put the servers after")
    generated = [f"    server {name} 127.0.0.1:{port}" for name, port in servers]
    return "\n".join(lines[: marker + 1] + generated + lines[marker + 1 :]) + "\n"


# ------------------------------------------------------------------------------ services
def port_free(port: int) -> bool:
    """Nothing listens on (or holds) 127.0.0.1:port. Connections of an earlier run that linger
    in TIME_WAIT do not count: the servers started here bind with SO_REUSEADDR too."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_ports(count: int, first: int, last: int) -> list[int]:
    """`count` ports of 127.0.0.1 in first..last that nothing listens on now."""
    ports = [port for port in range(first, last + 1) if port_free(port)][:count]
    if len(ports) < count:
        raise ClusterError(f"fewer than {count} free ports in {first}..{last}")
    return ports


def redis_ping(url: str, timeout: float = 2.0) -> bool:
    """One PING in Redis's wire protocol (no client library needed to find out)."""
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or 6379), timeout=timeout
        ) as sock:
            if parts.password:
                user = unquote(parts.username or "default")
                password = unquote(parts.password)
                sock.sendall(
                    f"*3\r\n$4\r\nAUTH\r\n${len(user)}\r\n{user}\r\n"
                    f"${len(password.encode())}\r\n{password}\r\n".encode()
                )
                if not sock.recv(64).startswith(b"+OK"):
                    return False
            sock.sendall(b"*1\r\n$4\r\nPING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def postgres_admin_url(database_url: str) -> tuple[str, str]:
    """(URL of the server's `postgres` database, name of the wanted database)."""
    parts = urlsplit(database_url)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise ClusterError(f"the cluster needs PostgreSQL; DATABASE_URL is {database_url!r}")
    name = parts.path.lstrip("/")
    if not name:
        raise ClusterError("DATABASE_URL names no database")
    admin = parts._replace(scheme="postgresql", path="/postgres").geturl()
    return admin, name


def database_ensure(database_url: str) -> bool:
    """Create the database unless it exists. True when it was created."""
    import psycopg
    from psycopg import sql

    admin, name = postgres_admin_url(database_url)
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                return False
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            return True
    except psycopg.OperationalError as error:
        raise ClusterError(f"PostgreSQL at {urlsplit(admin).netloc} refused us: {error}") from None


def database_drop(database_url: str) -> None:
    import psycopg
    from psycopg import sql

    admin, name = postgres_admin_url(database_url)
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def http_status(url: str, timeout: float = 2.0) -> int:
    """The status of GET url, or 0 when nothing answered."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (loopback)
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except (OSError, urllib.error.URLError):
        return 0


# ------------------------------------------------------------------------------ processes
@dataclass
class Child:
    """One process the cluster started, in a process group of its own."""

    name: str
    role: str  # node, balancer, worker, beat, redis
    command: list[str]
    env: dict[str, str]
    log_path: Path
    url: str = ""
    popen: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = None
    reported_exit: bool = False
    reaped: bool = False  # waited for: its pid may belong to someone else from now on

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen else None

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def spawn(self) -> None:
        if self.log:
            self.log.close()
        self.log = self.log_path.open("ab")
        self.log.write(f"--- starting {' '.join(self.command)}\n".encode())
        self.log.flush()
        self.popen = subprocess.Popen(
            self.command,
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: Ctrl+C reaches only the launcher
        )
        self.reported_exit = self.reaped = False

    def signal_group(self, signum: int) -> None:
        if self.popen is None or self.reaped:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signum)

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Cluster:
    """N app nodes, HAProxy, and (when the project has them) the Celery worker and beat."""

    run_dir: Path
    nodes: int = 3
    lb_port: int = 8080
    node_ports: list[int] = field(default_factory=list)
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str = DEFAULT_REDIS_URL
    # Start a private redis-server on this port (and use it) instead of redis_url: for tests
    # that must restart Redis, which one may do only to a Redis one started.
    own_redis_port: int | None = None
    workers: int = 2
    secret_key: str = ""
    seed_args: list[str] = field(default_factory=list)
    extra_env: dict[str, str] = field(default_factory=dict)
    log_level: str = "INFO"
    celery: bool | None = None  # None: start worker and beat when haat/celery.py exists
    say: Callable[[str], None] = print

    def __post_init__(self) -> None:
        if self.nodes < 1:
            raise ClusterError("a cluster has at least one node")
        if not self.node_ports:
            self.node_ports = [8101 + i for i in range(self.nodes)]
        if len(self.node_ports) != self.nodes:
            raise ClusterError("one port per node is needed")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "logs").mkdir(exist_ok=True)
        if self.own_redis_port:
            self.redis_url = f"redis://127.0.0.1:{self.own_redis_port}/0"
        self.secret_key = self.secret_key or secrets.token_urlsafe(50)
        if self.celery is None:
            self.celery = has_celery_app()
        self.health_path = HEALTH_PATHS[-1]
        self.children: dict[str, Child] = {}
        socket_path = self.run_dir / "haproxy.sock"
        if len(str(socket_path)) > 100:  # Unix socket paths are limited to 108 bytes
            socket_path = Path(tempfile.mkdtemp(prefix="haat-lb-")) / "haproxy.sock"
        self.haproxy_socket = socket_path

    # -------------------------------------------------------------- names and environments
    @property
    def node_names(self) -> list[str]:
        return [f"node{i + 1}" for i in range(self.nodes)]

    @property
    def balancer_url(self) -> str:
        return f"http://127.0.0.1:{self.lb_port}"

    def node_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.node_ports[self.node_names.index(name)]}"

    @property
    def worker_hostname(self) -> str:
        return f"haat-worker-{self.lb_port}@{socket.gethostname()}"

    def _inherited(self) -> dict[str, str]:
        return {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}

    def production_env(self, **more: str) -> dict[str, str]:
        """The environment of every Haat process of the cluster (nodes, worker, beat)."""
        env = self._inherited()
        env.setdefault("PAYMENT_GATEWAY", "test")
        env.update(
            HAAT_ENV="production",
            SECRET_KEY=self.secret_key,
            ALLOWED_HOSTS="127.0.0.1,localhost",
            DATABASE_URL=self.database_url,
            REDIS_URL=self.redis_url,
            HAAT_DATA_DIR=str(self.run_dir),
            LOG_LEVEL=self.log_level,
            SILENCED_SYSTEM_CHECKS=SILENCED_CHECKS,
            # The production defaults refuse the test gateway unless told it is on purpose.
            ALLOW_TEST_PAYMENTS_IN_PRODUCTION="true",
            **PLAIN_HTTP,
        )
        env.update(self.extra_env)
        env.update(more)
        return env

    def development_env(self) -> dict[str, str]:
        """For seed_demo, which refuses production mode: same database, same media folder."""
        env = self._inherited()
        env.update(
            HAAT_ENV="development",
            DATABASE_URL=self.database_url,
            HAAT_DATA_DIR=str(self.run_dir),
        )
        return env

    # -------------------------------------------------------------- set-up
    def manage(self, *args: str, env: dict[str, str], timeout: float = 600) -> str:
        try:
            result = subprocess.run(
                [sys.executable, "manage.py", *args],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            raise ClusterError(f"manage.py {' '.join(args)} took over {timeout:.0f} s") from None
        if result.returncode != 0:
            raise ClusterError(
                f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
            )
        return result.stdout

    def python(self, script: str | Path, *args: str, timeout: float = 300) -> str:
        """Run a Python script of the repository in the nodes' environment; its stdout."""
        try:
            result = subprocess.run(
                [sys.executable, str(script), *args],
                cwd=ROOT,
                env=self.production_env(),
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            raise ClusterError(f"{script} took over {timeout:.0f} s") from None
        if result.returncode != 0:
            raise ClusterError(f"{script} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def prepare(self) -> None:
        """Database, deploy checks, migrations and static files: what every node needs first.
        Static files are collected while the database is migrated (neither needs the other)."""
        began = time.monotonic()
        if database_ensure(self.database_url):
            self.say(f"Created database {postgres_admin_url(self.database_url)[1]}.")
        env = self.production_env()
        with ThreadPoolExecutor(max_workers=1) as pool:
            static = pool.submit(self.manage, "collectstatic", "--noinput", "-v0", env=env)
            self.manage("check", "--deploy", "--fail-level", "ERROR", env=env, timeout=120)
            self.manage("migrate", "--noinput", "-v0", env=env)
            static.result()
        self.say(f"Checked, migrated, static files collected ({time.monotonic() - began:.0f} s).")

    def seed(self) -> None:
        """The demo catalogue, like `make run` (seed_demo never duplicates anything)."""
        seeded = self.manage("seed_demo", *self.seed_args, env=self.development_env())
        for line in seeded.splitlines():
            if line.strip():
                self.say(line)

    # -------------------------------------------------------------- start and stop
    def _child(
        self, name: str, role: str, command: list[str], env: dict[str, str], url: str = ""
    ) -> Child:
        child = Child(name, role, command, env, self.run_dir / "logs" / f"{name}.log", url)
        child.log_path.write_bytes(b"")
        self.children[name] = child
        child.spawn()
        return child

    def start(self, *, prepare: bool = True) -> None:
        """Start everything and wait until it answers; on any failure stop what was started."""
        try:
            self._start(prepare)
        except BaseException:
            self.stop()
            raise

    def _start(self, prepare: bool) -> None:
        busy = [p for p in [self.lb_port, *self.node_ports] if not port_free(p)]
        if busy:
            raise ClusterError(f"ports already in use on 127.0.0.1: {busy}")
        if self.own_redis_port:
            self._start_redis()
        elif not redis_ping(self.redis_url):
            self.say(
                f"Warning: no Redis answers at {self.redis_url}; the nodes fall back to "
                "the database where they can."
            )
        if prepare:
            self.prepare()
        began = time.monotonic()
        for name, port in zip(self.node_names, self.node_ports, strict=True):
            self._child(
                name,
                "node",
                node_command(port=port, workers=self.workers),
                self.production_env(HAAT_NODE_NAME=name),
                url=f"http://127.0.0.1:{port}",
            )
        # The catalogue is loaded while the nodes boot: they serve an empty shop until then.
        with ThreadPoolExecutor(max_workers=1) as pool:
            seeding = pool.submit(self.seed) if prepare else None
            for name in self.node_names:
                self.wait_node(name)
            if seeding:
                seeding.result()
        self._start_balancer()
        self.say(
            f"{self.nodes} node(s) and the balancer answer ({time.monotonic() - began:.0f} s)."
        )
        if self.celery:
            self._start_celery()

    def _start_redis(self) -> None:
        server = shutil.which("redis-server")
        if not server:
            raise ClusterError("redis-server is not installed: apt-get install redis-server")
        assert self.own_redis_port is not None
        command = [
            server,
            "--port",
            str(self.own_redis_port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        self._child("redis", "redis", command, self._inherited(), url=self.redis_url)
        self.wait(lambda: redis_ping(self.redis_url), "redis", timeout=15)

    def _start_balancer(self) -> None:
        config = self.run_dir / "haproxy.cfg"
        config.write_text(
            render_haproxy_config(
                HAPROXY_TEMPLATE.read_text(),
                list(zip(self.node_names, self.node_ports, strict=True)),
            )
        )
        env = self._inherited()
        env.update(
            HAAT_LB_BIND=f"127.0.0.1:{self.lb_port}",
            HAAT_HAPROXY_SOCKET=str(self.haproxy_socket),
            HAAT_HEALTH_PATH=self.health_path,
            HAAT_HEALTH_HOST="localhost",
        )
        haproxy = haproxy_binary()
        check = subprocess.run(
            [haproxy, "-c", "-q", "-f", str(config)],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        if check.returncode != 0:
            raise ClusterError(f"HAProxy refuses {config}:\n{check.stdout}{check.stderr}")
        self._child(
            "balancer", "balancer", [haproxy, "-db", "-f", str(config)], env, self.balancer_url
        )
        self.wait_servers({name: "UP" for name in self.node_names}, timeout=30)
        self.wait(lambda: http_status(self.balancer_url + "/") == 200, "balancer", timeout=30)

    def _start_celery(self) -> None:
        env = self.production_env()
        self._child("worker", "worker", worker_command(hostname=self.worker_hostname), env)
        self._child("beat", "beat", beat_command(run_dir=self.run_dir), env)
        self.wait_worker()
        time.sleep(1.0)  # beat has no way to ask it; a beat that cannot start exits at once
        self._raise_if_exited(self.children["beat"])

    def wait_worker(self, timeout: float = 90) -> None:
        """Until the Celery worker answers a ping through the broker."""
        worker = self.children["worker"]

        def answers() -> bool:
            self._raise_if_exited(worker)
            ping = subprocess.run(
                [str(BIN / "celery"), "-A", "haat", "inspect", "ping", "--destination",
                 self.worker_hostname, "--timeout", "2"],
                cwd=ROOT, env=worker.env, capture_output=True, timeout=30,
            )  # fmt: skip
            return ping.returncode == 0

        self.wait(answers, "worker", timeout=timeout, interval=1.0)

    def stop(self) -> None:
        """Stop what this cluster started: balancer first (no new requests), then the rest.
        SIGTERM to each process group, SIGKILL to what is left after 15 s."""
        order = ["balancer", "beat", "worker", *self.node_names, "redis"]
        children = [self.children[n] for n in order if n in self.children]
        for child in children:
            if child.alive():
                child.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for child in children:
            if child.popen is None or child.reaped:
                continue
            try:
                child.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.signal_group(signal.SIGKILL)
                child.popen.wait(timeout=10)
            child.signal_group(signal.SIGKILL)  # workers a dead leader may have left behind
            child.reaped = True
            if child.log:
                child.log.close()
                child.log = None
        if self.haproxy_socket.parent != self.run_dir:
            shutil.rmtree(self.haproxy_socket.parent, ignore_errors=True)

    # -------------------------------------------------------------- faults and restarts
    def kill(self, name: str, signum: int = signal.SIGKILL) -> None:
        """Signal one child's whole process group (kill -9 by default) and reap it."""
        child = self.children[name]
        child.signal_group(signum)
        assert child.popen is not None
        child.popen.wait(timeout=30)
        child.signal_group(signal.SIGKILL)  # whatever of its group outlived the leader
        child.reported_exit = child.reaped = True

    def restart(self, name: str) -> None:
        """Start a stopped or killed child again with the same command and environment."""
        child = self.children[name]
        if child.alive():
            raise ClusterError(f"{name} is still running")
        child.spawn()
        if child.role == "node":
            self.wait_node(name)
        elif child.role == "redis":
            self.wait(lambda: redis_ping(self.redis_url), name, timeout=15)
        elif child.role == "worker":
            self.wait_worker()

    # -------------------------------------------------------------- waiting and the balancer
    def wait(
        self, ready: Callable[[], bool], what: str, *, timeout: float, interval: float = 0.25
    ) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ready():
                return
            time.sleep(interval)
        child = self.children.get(what)
        tail = f"\nlast lines of {child.log_path}:\n{child.log_tail()}" if child else ""
        raise ClusterError(f"{what} was not ready within {timeout:.0f} s{tail}")

    def _raise_if_exited(self, child: Child) -> None:
        if not child.alive():
            code = child.popen.returncode if child.popen else None
            raise ClusterError(
                f"{child.name} exited ({code}); last lines of {child.log_path}:\n{child.log_tail()}"
            )

    def wait_node(self, name: str, timeout: float = 120) -> None:
        """Until the node answers its health check; the first node also decides which path the
        balancer checks (/healthz once the app has it, else /). A node on a busy 2-core machine
        has taken over a minute to boot."""
        child = self.children[name]

        def answers() -> bool:
            self._raise_if_exited(child)
            for path in HEALTH_PATHS:
                status = http_status(child.url + path)
                if status == 0:
                    return False
                if status == 200:
                    self.health_path = path
                    return True
            return False

        self.wait(answers, name, timeout=timeout)

    def haproxy_command(self, command: str) -> str:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(5)
            sock.connect(str(self.haproxy_socket))
            sock.sendall(command.encode() + b"\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def servers(self) -> dict[str, dict[str, str]]:
        """HAProxy's view of each node: status (UP, DOWN, MAINT, ...), requests sent, etc."""
        try:
            text = self.haproxy_command("show stat")
        except OSError:
            return {}
        rows = csv.DictReader(io.StringIO(text.lstrip("# ")))
        return {
            row["svname"]: row
            for row in rows
            if row.get("pxname") == BACKEND and row.get("svname") in self.node_names
        }

    def server_states(self) -> dict[str, str]:
        return {name: row["status"].split(" ")[0] for name, row in self.servers().items()}

    def wait_servers(self, expected: dict[str, str], timeout: float = 30) -> None:
        def reached() -> bool:
            if "balancer" in self.children:
                self._raise_if_exited(self.children["balancer"])
            states = self.server_states()
            return all(states.get(name) == state for name, state in expected.items())

        try:
            self.wait(reached, "balancer", timeout=timeout)
        except ClusterError as error:
            raise ClusterError(f"{error}\nHAProxy sees: {self.server_states()}") from None

    def set_server(self, name: str, state: str) -> None:
        """Take a node out of the balancer (`maint`) or put it back (`ready`)."""
        answer = self.haproxy_command(f"set server {BACKEND}/{name} state {state}").strip()
        if answer:
            raise ClusterError(f"HAProxy: {answer}")

    # -------------------------------------------------------------- reporting
    def describe(self) -> str:
        db = urlsplit(self.database_url)
        lines = [
            f"Haat cluster: {self.nodes} node(s) in production mode, "
            f"PostgreSQL {db.hostname}:{db.port or 5432}{db.path}, Redis {urlsplit(self.redis_url).netloc}{urlsplit(self.redis_url).path}",
        ]
        for name, child in self.children.items():
            where = child.url or "-"
            what = {
                "node": f"granian haat.wsgi, {self.workers} workers",
                "balancer": f"HAProxy, health check GET {self.health_path}, admin socket {self.haproxy_socket}",
                "worker": f"celery worker {self.worker_hostname}",
                "beat": "celery beat (exactly one per shop)",
                "redis": "redis-server (private to this cluster)",
            }[child.role]
            lines.append(f"  {name:<9} {where:<24} pid {child.pid:<7} {what}")
        if not self.celery:
            lines.append(
                "  worker, beat: not started: the project has no Celery app (haat/celery.py) yet"
            )
        lines.append(f"  logs: {self.run_dir / 'logs'}/<name>.log")
        return "\n".join(lines)

    def watch(self) -> None:
        """Report children that exit; stop when the balancer does. Returns never (Ctrl+C)."""
        while True:
            for child in self.children.values():
                if not child.alive() and not child.reported_exit:
                    child.reported_exit = True
                    code = child.popen.returncode if child.popen else None
                    self.say(
                        f"{child.name} exited ({code}); last lines of its log:\n{child.log_tail()}"
                    )
                    if child.role == "balancer":
                        raise ClusterError("the balancer stopped")
            time.sleep(1)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--nodes", type=int, default=int(os.environ.get("NODES", "3")))
    parser.add_argument("--port", type=int, default=8080, help="the balancer's port (127.0.0.1)")
    parser.add_argument("--first-node-port", type=int, default=8101)
    parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("WEB_CONCURRENCY") or 2),
        help="granian workers per node (WEB_CONCURRENCY; default 2: the nodes share this machine)",
    )
    parser.add_argument("--run-dir", type=Path, default=ROOT / "data" / "cluster")
    parser.add_argument("--products", type=int, default=300, help="demo products to load")
    parser.add_argument("--images-per-product", type=int, default=2, choices=range(0, 5))
    parser.add_argument(
        "--own-redis",
        type=int,
        metavar="PORT",
        help="start a private redis-server on this port instead of using REDIS_URL",
    )
    args = parser.parse_args(argv)
    args.run_dir.mkdir(parents=True, exist_ok=True)
    # One SECRET_KEY per cluster, kept across restarts so sessions survive them.
    key_file = args.run_dir / "secret_key"
    secret_key = os.environ.get("SECRET_KEY", "")
    if not secret_key:
        if not key_file.exists():
            key_file.touch(mode=0o600)
            key_file.write_text(secrets.token_urlsafe(50))
        secret_key = key_file.read_text().strip()
    cluster = Cluster(
        run_dir=args.run_dir,
        nodes=args.nodes,
        lb_port=args.port,
        node_ports=[args.first_node_port + i for i in range(args.nodes)],
        database_url=os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
        redis_url=os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL,
        own_redis_port=args.own_redis,
        workers=args.workers,
        secret_key=secret_key,
        seed_args=[
            "--products",
            str(args.products),
            "--images-per-product",
            str(args.images_per_product),
        ],
    )

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    # Ctrl+C, SIGTERM (systemd, docker stop) and a closed terminal all stop the cluster. SIGINT
    # is set too because a shell starts background jobs with it ignored.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupt)
    try:
        cluster.start()
        print(cluster.describe())
        print(f"\nThe shop: {cluster.balancer_url}/   (Ctrl+C stops everything)", flush=True)
        cluster.watch()
    except KeyboardInterrupt:
        print("\nStopping...", flush=True)
    except ClusterError as error:
        print(f"make cluster: {error}", file=sys.stderr)
        return 1
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)  # a second Ctrl+C must not cut the clean-up short
        cluster.stop()
        print("Stopped everything the cluster started.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
