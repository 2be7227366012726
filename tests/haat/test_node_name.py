"""X-Haat-Node names the app node that answered, when HAAT_NODE_NAME is set."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings

from tests.manage_process import manage

SHOW_FIRST_MIDDLEWARE = "from django.conf import settings; print(settings.MIDDLEWARE[0])"


@pytest.mark.django_db
def test_without_a_node_name_no_header_is_sent(client) -> None:
    assert "haat.node.NodeNameMiddleware" not in django_settings.MIDDLEWARE
    assert "X-Haat-Node" not in client.get("/account/sign-in/").headers


@pytest.mark.django_db
def test_every_answer_names_the_node(client, settings) -> None:
    settings.HAAT_NODE_NAME = "node7"
    settings.MIDDLEWARE = ["haat.node.NodeNameMiddleware", *settings.MIDDLEWARE]
    assert client.get("/account/sign-in/").headers["X-Haat-Node"] == "node7"
    assert client.get("/no-such-page/").headers["X-Haat-Node"] == "node7"  # errors too
    assert client.get("/cart/").headers["X-Haat-Node"] == "node7"  # and redirects


def test_the_variable_puts_the_middleware_first() -> None:
    result = manage("shell", "-v", "0", "-c", SHOW_FIRST_MIDDLEWARE, HAAT_NODE_NAME="node-2.eu")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "haat.node.NodeNameMiddleware"


@pytest.mark.parametrize("name", ["node2\r\nSet-Cookie: x=1", "n" * 65])
def test_a_name_that_cannot_be_a_header_value_is_refused(name: str) -> None:
    result = manage("check", HAAT_NODE_NAME=name)
    assert result.returncode != 0
    assert "HAAT_NODE_NAME" in result.stderr
