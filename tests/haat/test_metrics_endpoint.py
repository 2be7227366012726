"""/metrics: Prometheus text for allowed networks (and the token, when set); 404 for anyone else,
including visitors forwarded by a proxy that Haat was not told to trust."""

from __future__ import annotations

import pytest

from tests.manage_process import manage

OUTSIDER = "203.0.113.9"


@pytest.fixture(autouse=True)
def _defaults(settings):
    settings.METRICS_ALLOWED_NETWORKS = ["127.0.0.1/32", "::1/128"]
    settings.METRICS_TRUSTED_PROXIES = []
    settings.METRICS_TOKEN = ""


def scrape(client, address: str = "127.0.0.1", **headers):
    return client.get("/metrics", REMOTE_ADDR=address, **headers)


def assert_not_found(response) -> None:
    assert response.status_code == 404
    assert b"haat_checkouts_total" not in response.content


@pytest.mark.django_db
def test_an_allowed_address_gets_the_text_exposition(client):
    response = scrape(client)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    for name in (
        "haat_checkouts_total",
        "haat_reservations_total",
        "haat_payments_total",
        "haat_refunds_total",
        "haat_tasks_total",
    ):
        assert f"# TYPE {name} counter" in text
    assert 'haat_checkouts_total{outcome="started"}' in text


@pytest.mark.django_db
def test_ipv6_loopback_and_mapped_ipv4_are_allowed_by_default(client):
    assert scrape(client, "::1").status_code == 200
    assert scrape(client, "::ffff:127.0.0.1").status_code == 200


@pytest.mark.django_db
def test_any_other_address_gets_the_shops_ordinary_404(client):
    response = scrape(client, OUTSIDER)
    assert_not_found(response)
    assert [t.name for t in response.templates] == [
        t.name for t in client.get("/no-such-page-at-all").templates
    ]
    assert "404.html" in [t.name for t in response.templates]


@pytest.mark.django_db
def test_a_forwarded_request_from_an_untrusted_proxy_is_refused(client):
    # HAProxy on the same machine connects from 127.0.0.1: without this rule every visitor
    # it forwards would look local.
    assert_not_found(scrape(client, "127.0.0.1", HTTP_X_FORWARDED_FOR=OUTSIDER))
    assert_not_found(scrape(client, "127.0.0.1", HTTP_X_FORWARDED_FOR="127.0.0.1"))
    assert_not_found(scrape(client, "127.0.0.1", HTTP_FORWARDED="for=127.0.0.1"))


@pytest.mark.django_db
def test_behind_a_trusted_proxy_the_forwarded_client_decides(client, settings):
    settings.METRICS_TRUSTED_PROXIES = ["10.0.0.0/24"]
    settings.METRICS_ALLOWED_NETWORKS = ["192.0.2.0/24"]
    proxy = "10.0.0.2"
    assert scrape(client, proxy, HTTP_X_FORWARDED_FOR="192.0.2.5").status_code == 200
    assert_not_found(scrape(client, proxy, HTTP_X_FORWARDED_FOR=OUTSIDER))
    # A visitor who writes an allowed address into the header themselves: the proxy appends
    # the real one, and the nearest untrusted hop decides.
    assert_not_found(scrape(client, proxy, HTTP_X_FORWARDED_FOR=f"192.0.2.5, {OUTSIDER}"))
    # Through two trusted proxies.
    assert scrape(client, proxy, HTTP_X_FORWARDED_FOR="192.0.2.5, 10.0.0.9").status_code == 200
    # The proxy did not say who its client was, or said something that is not an address.
    assert_not_found(scrape(client, proxy))
    assert_not_found(scrape(client, proxy, HTTP_X_FORWARDED_FOR="unknown"))


@pytest.mark.django_db
def test_with_a_token_it_is_required_as_well(client, settings):
    settings.METRICS_TOKEN = "s3cret-scrape-token"
    assert_not_found(scrape(client))
    assert_not_found(scrape(client, HTTP_AUTHORIZATION="Bearer wrong"))
    assert_not_found(scrape(client, HTTP_AUTHORIZATION="Basic s3cret-scrape-token"))
    assert_not_found(scrape(client, OUTSIDER, HTTP_AUTHORIZATION="Bearer s3cret-scrape-token"))
    assert scrape(client, HTTP_AUTHORIZATION="Bearer s3cret-scrape-token").status_code == 200


@pytest.mark.django_db
def test_with_a_token_and_every_network_allowed_the_token_alone_decides(client, settings):
    settings.METRICS_TOKEN = "s3cret-scrape-token"
    settings.METRICS_ALLOWED_NETWORKS = ["0.0.0.0/0", "::/0"]
    response = scrape(client, OUTSIDER, HTTP_AUTHORIZATION="Bearer s3cret-scrape-token")
    assert response.status_code == 200
    assert_not_found(scrape(client, OUTSIDER))


def test_a_malformed_network_is_a_clear_error(tmp_path):
    result = manage(
        "check",
        METRICS_ALLOWED_NETWORKS="10.0.0.0/8,loopback",
        HAAT_DATA_DIR=str(tmp_path),
        DATABASE_URL="",
    )
    assert result.returncode != 0
    assert "METRICS_ALLOWED_NETWORKS: 'loopback' is not a network" in result.stderr


def test_worker_processes_counts_add_up_in_multiprocess_mode(tmp_path):
    """Two processes count, a third answers the scrape: it reports the sum."""
    folder = tmp_path / "prometheus"
    env = {
        "PROMETHEUS_MULTIPROC_DIR": str(folder),
        "HAAT_DATA_DIR": str(tmp_path),
        "DATABASE_URL": "",
    }
    count = (
        "from haat import metrics\n"
        "metrics.count_now(metrics.CHECKOUTS, outcome='refused')\n"
        "metrics.count_now(metrics.CHECKOUTS, outcome='refused')\n"
    )
    for _ in range(2):
        result = manage("shell", "-c", count, **env)
        assert result.returncode == 0, result.stderr
    read = (
        "from django.test import Client\n"
        "print(Client().get('/metrics', REMOTE_ADDR='127.0.0.1').content.decode())\n"
    )
    result = manage("shell", "-c", read, **env)
    assert result.returncode == 0, result.stderr
    assert 'haat_checkouts_total{outcome="refused"} 4.0' in result.stdout
