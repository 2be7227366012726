"""Back-in-stock alerts: asked for on an out-of-stock item, sent once when stock comes back
through the ledger, shown as a badge on the wishlist."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from catalog.events import stock_back
from catalog.models import StockMovement
from catalog.services import stock_adjust
from haat.errors import AlertNotNeeded, NotInWishlist, ProductUnavailable
from wishlist import selectors, services

pytestmark = pytest.mark.django_db

RESTOCK = StockMovement.Reason.RESTOCK


@pytest.fixture
def waiting(shopper, make_product):
    """An out-of-stock fan the shopper asked to be told about."""
    fan = make_product(stock=0, name="Table Fan")
    services.wishlist_toggle(user_id=shopper.pk, product_id=fan.pk)
    services.wishlist_alert_set(user_id=shopper.pk, product_id=fan.pk, wanted=True)
    return fan


def _item(user):
    [item] = selectors.wishlist_get(user_id=user.pk).items
    return item


def test_an_alert_is_asked_only_for_an_out_of_stock_item(shopper, make_product):
    in_stock, sold_out, other = make_product(stock=3), make_product(stock=0), make_product()
    for product in (in_stock, sold_out):
        services.wishlist_toggle(user_id=shopper.pk, product_id=product.pk)
    with pytest.raises(AlertNotNeeded) as refusal:
        services.wishlist_alert_set(user_id=shopper.pk, product_id=in_stock.pk, wanted=True)
    assert refusal.value.message == f"{in_stock.name} is in stock now: add it to your cart."
    with pytest.raises(NotInWishlist):
        services.wishlist_alert_set(user_id=shopper.pk, product_id=other.pk, wanted=True)
    services.wishlist_alert_set(user_id=shopper.pk, product_id=sold_out.pk, wanted=True)
    wanted = {
        i.product_id: i.alert_wanted for i in selectors.wishlist_get(user_id=shopper.pk).items
    }
    assert wanted == {in_stock.pk: False, sold_out.pk: True}
    sold_out.is_published = False
    sold_out.save()
    with pytest.raises(ProductUnavailable):
        services.wishlist_alert_set(user_id=shopper.pk, product_id=sold_out.pk, wanted=True)
    # Stopping always works.
    services.wishlist_alert_set(user_id=shopper.pk, product_id=sold_out.pk, wanted=False)


def test_restock_through_the_ledger_mails_once_and_shows_the_badge(
    shopper, waiting, mailoutbox, django_capture_on_commit_callbacks
):
    assert _item(shopper).can_ask_alert and not _item(shopper).back_in_stock
    with django_capture_on_commit_callbacks(execute=True):
        stock_adjust(product_id=waiting.pk, delta=4, reason=RESTOCK)
    [mail] = mailoutbox
    assert mail.to == ["shopper@example.com"]
    assert mail.subject == "Haat: Table Fan is back in stock"
    assert "Good news: Table Fan is back in stock." in mail.body
    assert f"{settings.SITE_URL}{waiting.get_absolute_url()}" in mail.body
    item = _item(shopper)
    assert (item.alert_wanted, item.alert_sent, item.back_in_stock) == (False, True, True)
    assert selectors.wishlist_get(user_id=shopper.pk).back_in_stock_count == 1
    # Running the job again (the sweep, a second worker) sends nothing more.
    assert services.back_in_stock_alerts_send() == {}
    assert services.back_in_stock_alerts_send(product_ids=[waiting.pk]) == {}
    # More stock on top of some is not a return: nothing is queued.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        stock_adjust(product_id=waiting.pk, delta=2, reason=RESTOCK)
    assert [cb for cb in callbacks if getattr(cb, "func", None) == stock_back.send_robust] == []
    assert len(mailoutbox) == 1


def test_sending_twice_at_once_sends_one_mail(shopper, waiting, mailoutbox):
    stock_adjust(product_id=waiting.pk, delta=1, reason=RESTOCK)  # callbacks not run: no job
    first = services.back_in_stock_alert_send(user_id=shopper.pk, product_id=waiting.pk)
    second = services.back_in_stock_alert_send(user_id=shopper.pk, product_id=waiting.pk)
    assert (first, second) == ("sent", "not due")
    assert len(mailoutbox) == 1


def test_each_waiting_shopper_gets_one_mail_in_their_language(
    shopper, waiting, make_user, mailoutbox, django_capture_on_commit_callbacks
):
    bangla = make_user("bangla@example.com", language="bn")
    services.wishlist_toggle(user_id=bangla.pk, product_id=waiting.pk)
    services.wishlist_alert_set(user_id=bangla.pk, product_id=waiting.pk, wanted=True)
    not_asking = make_user("quiet@example.com")
    services.wishlist_toggle(user_id=not_asking.pk, product_id=waiting.pk)
    with django_capture_on_commit_callbacks(execute=True):
        stock_adjust(product_id=waiting.pk, delta=1, reason=RESTOCK)
    by_address = {mail.to[0]: mail for mail in mailoutbox}
    assert set(by_address) == {"shopper@example.com", "bangla@example.com"}
    assert "স্টকে" in by_address["bangla@example.com"].subject
    assert "Table Fan" in by_address["bangla@example.com"].subject


def test_sold_out_again_before_the_job_runs_sends_nothing(
    shopper, waiting, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        stock_adjust(product_id=waiting.pk, delta=1, reason=RESTOCK)
        stock_adjust(product_id=waiting.pk, delta=-1, reason=StockMovement.Reason.CORRECTION)
    assert mailoutbox == []
    assert _item(shopper).alert_wanted  # still waiting for a restock that lasts


def test_still_out_of_stock_sends_nothing(shopper, waiting, mailoutbox):
    assert services.back_in_stock_alerts_send() == {}
    assert services.back_in_stock_alert_send(user_id=shopper.pk, product_id=waiting.pk) == (
        "not due"
    )
    assert mailoutbox == []
    assert _item(shopper).alert_wanted


def test_a_failed_mail_stays_due_and_the_sweep_sends_it(shopper, waiting, mailoutbox, monkeypatch):
    stock_adjust(product_id=waiting.pk, delta=1, reason=RESTOCK)
    real_send = EmailMultiAlternatives.send

    def down(self, *args, **kwargs):
        raise ConnectionRefusedError("mail server away")

    monkeypatch.setattr(EmailMultiAlternatives, "send", down)
    assert services.back_in_stock_alerts_send() == {"failed": 1}
    assert _item(shopper).alert_wanted and not _item(shopper).alert_sent
    monkeypatch.setattr(EmailMultiAlternatives, "send", real_send)
    assert services.back_in_stock_alerts_send() == {"sent": 1}
    assert len(mailoutbox) == 1


def test_asking_again_after_an_alert_waits_for_the_next_restock(
    shopper, waiting, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        stock_adjust(product_id=waiting.pk, delta=1, reason=RESTOCK)
    assert len(mailoutbox) == 1
    stock_adjust(product_id=waiting.pk, delta=-1, reason=StockMovement.Reason.CORRECTION)
    assert not _item(shopper).back_in_stock  # told, but sold out again: no badge
    services.wishlist_alert_set(user_id=shopper.pk, product_id=waiting.pk, wanted=True)
    with django_capture_on_commit_callbacks(execute=True):
        stock_adjust(product_id=waiting.pk, delta=3, reason=RESTOCK)
    assert len(mailoutbox) == 2


def test_a_shopper_without_an_address_gets_the_badge_only(
    make_user, make_product, mailoutbox, django_capture_on_commit_callbacks
):
    clerk = make_user("user_2abc@clerk.invalid")
    fan = make_product(stock=0)
    services.wishlist_toggle(user_id=clerk.pk, product_id=fan.pk)
    services.wishlist_alert_set(user_id=clerk.pk, product_id=fan.pk, wanted=True)
    with django_capture_on_commit_callbacks(execute=True):
        stock_adjust(product_id=fan.pk, delta=1, reason=RESTOCK)
    assert mailoutbox == []
    assert _item(clerk).back_in_stock


def test_the_periodic_sweep_sends_what_no_job_sent(shopper, waiting, mailoutbox):
    """The restock's job was lost (its process died before running it): the periodic task
    (beat's, or the in-process ticker's) sends the alert, once."""
    from wishlist.tasks import send_due_back_in_stock_alerts

    stock_adjust(product_id=waiting.pk, delta=1, reason=RESTOCK)  # callbacks not run: no job
    assert send_due_back_in_stock_alerts.apply().result == {"sent": 1}
    assert send_due_back_in_stock_alerts.apply().result == {}
    assert len(mailoutbox) == 1
