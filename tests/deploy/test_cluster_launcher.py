"""The parts of the cluster launcher (scripts/cluster.py) that need no running cluster."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scripts.cluster import (
    HAPROXY_TEMPLATE,
    ClusterError,
    node_command,
    postgres_admin_url,
    render_haproxy_config,
)


def server_lines(config: str) -> list[str]:
    return [line.strip() for line in config.splitlines() if re.match(r"\s*server\s", line)]


def test_the_config_gets_one_server_line_per_node() -> None:
    template = HAPROXY_TEMPLATE.read_text()
    assert len(server_lines(template)) == 3  # usable by hand as it is: nodes on 8101..8103
    config = render_haproxy_config(template, [(f"node{i}", 18500 + i) for i in range(1, 6)])
    assert server_lines(config) == [f"server node{i} 127.0.0.1:{18500 + i}" for i in range(1, 6)]
    # The servers stay inside the backend, after its defaults.
    assert config.index("backend haat_nodes") < config.index("default-server")
    assert config.index("default-server") < config.index("server node1")


def test_the_balancer_listens_on_loopback_only_unless_told() -> None:
    assert 'bind "${HAAT_LB_BIND-127.0.0.1:8080}"' in HAPROXY_TEMPLATE.read_text()


def test_a_template_without_the_nodes_marker_is_refused() -> None:
    with pytest.raises(ClusterError, match="nodes:"):
        render_haproxy_config("backend haat_nodes\n    server a 127.0.0.1:1\n", [("n", 2)])


def test_a_node_runs_what_make_prod_runs_on_its_own_port() -> None:
    command = node_command(port=18555, workers=3)
    assert command[command.index("--port") + 1] == "18555"
    assert command[command.index("--host") + 1] == "127.0.0.1"
    assert command[command.index("--workers") + 1] == "3"
    # The same server, interface, application and timeouts as the Makefile's `prod` target.
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    recipe = re.search(r"\nprod:[^\n]*\n(.*?)\n\n", makefile, re.S)
    assert recipe, "no prod target in the Makefile"
    prod = recipe.group(1).replace("\\\n", " ")
    served = prod[prod.index(".venv/bin/granian") :].split()
    assert command[0].endswith("/granian") and served[0].endswith("/granian")
    for flag in ("--interface", "--http1-header-read-timeout"):
        assert command[command.index(flag) + 1] == served[served.index(flag) + 1], flag
    assert "haat.wsgi:application" in command and "haat.wsgi:application" in served
    assert "--no-ws" in command and "--no-ws" in served


def test_the_cluster_needs_postgresql_with_a_database_name() -> None:
    assert postgres_admin_url("postgres://u:p@db.internal:5433/shop") == (
        "postgresql://u:p@db.internal:5433/postgres",
        "shop",
    )
    with pytest.raises(ClusterError, match="PostgreSQL"):
        postgres_admin_url("sqlite:///data/haat.sqlite3")
    with pytest.raises(ClusterError, match="no database"):
        postgres_admin_url("postgres://127.0.0.1:5432/")
