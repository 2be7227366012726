"""One cluster for the whole session: 3 app nodes behind HAProxy, a database and a Redis of its
own, started by the launcher `make cluster` uses (scripts/cluster.py) and stopped at the end.

Ports come from 127.0.0.1:18500-18599. The database is `haat_cluster_test_<pid>` on the server of
$TEST_DATABASE_URL (else 127.0.0.1:5432), created and dropped here. Redis is a private
redis-server: its state (sessions, rate limits) starts empty every run, and a test may restart it.
The shop's mails go to an SMTP sink in this process (tests/cluster/mail_sink.py), and the
periodic jobs run every BEAT_PERIOD seconds (60 in production), so a test that waits "two beat
periods" waits seconds. The nodes' logs are copied to test-artifacts/cluster/ when the session
ends."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from scripts.cluster import ROOT, Cluster, database_drop, free_ports
from tests.cluster.mail_sink import MailSink

NODES = 3
WORKERS_PER_NODE = 2
# Seconds between two runs of each periodic job (release expired reservations, reconcile
# payments, retry refunds, send owed mails).
BEAT_PERIOD = 5
PERIODS = (
    "RESERVATION_SWEEP_SECONDS",
    "PAYMENT_RECONCILE_SECONDS",
    "REFUND_RETRY_SECONDS",
    "ORDER_MAIL_SWEEP_SECONDS",
)
# A mail claimed by a worker that was killed is sent again after this (600 s in production).
MAIL_CLAIM_LEASE = 30
SEED = ["--products", "24", "--images-per-product", "0", "--no-progress", "--no-accounts"]


def cluster_database_url() -> str:
    server = urlsplit(os.environ.get("TEST_DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/")
    return server._replace(path=f"/haat_cluster_test_{os.getpid()}").geturl()


@pytest.fixture(scope="session")
def mail_sink() -> Iterator[MailSink]:
    sink = MailSink(port=free_ports(1, 18500, 18599)[0])
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture(scope="session")
def cluster(mail_sink: MailSink) -> Iterator[Cluster]:
    balancer_port, *node_ports, redis_port = free_ports(NODES + 2, 18500, 18599)
    run_dir = Path(tempfile.mkdtemp(prefix="haat-ct-"))
    database_url = cluster_database_url()
    database_drop(database_url)  # left over by an earlier run that had this pid
    running = Cluster(
        run_dir=run_dir,
        nodes=NODES,
        lb_port=balancer_port,
        node_ports=node_ports,
        own_redis_port=redis_port,
        database_url=database_url,
        workers=WORKERS_PER_NODE,
        seed_args=SEED,
        log_level="WARNING",
        extra_env={
            **dict.fromkeys(PERIODS, str(BEAT_PERIOD)),
            "ORDER_MAIL_CLAIM_LEASE_SECONDS": str(MAIL_CLAIM_LEASE),
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(mail_sink.port),
            "EMAIL_USE_TLS": "false",
        },
    )
    try:
        running.start()
        print("\n" + running.describe())
        yield running
    finally:
        running.stop()
        artifacts = ROOT / "test-artifacts" / "cluster"
        shutil.rmtree(artifacts, ignore_errors=True)
        shutil.copytree(run_dir / "logs", artifacts, dirs_exist_ok=True)
        database_drop(database_url)
        shutil.rmtree(run_dir, ignore_errors=True)


@pytest.fixture
def all_nodes_up(cluster: Cluster) -> Cluster:
    """The cluster with every node running and in the balancer (a test may have killed one)."""
    for name in cluster.node_names:
        if not cluster.children[name].alive():
            cluster.restart(name)
    cluster.wait_servers({name: "UP" for name in cluster.node_names}, timeout=30)
    return cluster
