"""English and Bangla: the header's switch, remembered in a cookie and on the shopper's account;
pages, prices, e-mails and API messages in the chosen language; the Bangla catalogue complete
and its compiled .mo in step with the .po."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from django.conf import settings
from django.test import Client

from accounts.models import User
from cart.services import cart_add_line
from checkout.services import checkout_start
from payments.services import pay_with_test_card
from tests.checkout.conftest import URLS
from tests.conftest import PASSWORD

LOCALE = Path(settings.BASE_DIR) / "locale"
PO = LOCALE / "bn" / "LC_MESSAGES" / "django.po"
MO = LOCALE / "bn" / "LC_MESSAGES" / "django.mo"
COOKIE = settings.LANGUAGE_COOKIE_NAME

pytestmark = pytest.mark.django_db

# Words of the English interface that must not be left on a Bangla page.
ENGLISH_UI_WORDS = [
    "Add to Cart",
    "Buy Now",
    "Wishlist",
    "Sign in",
    "Sign up",
    "Search",
    "Quantity",
    "Product details",
    "Category",
    "In stock",
    "Out of stock",
    "My cart",
    "Order summary",
    "Subtotal",
    "Delivery",
    "Total",
    "Proceed to checkout",
    "Delete",
    "Select all",
    "Just for you",
    "Skip to content",
    "Cancel",
    "Are you sure",
    "items",
    "Home",
    "left",
]


def visible_text(html: str) -> str:
    """What a reader sees or hears: the text and the labels, without markup, scripts and the
    product names the test itself made up."""
    html = re.sub(r"<script.*?</script>", " ", html, flags=re.S)
    labels = " ".join(re.findall(r'(?:aria-label|placeholder|title|alt)="([^"]*)"', html))
    return re.sub(r"<[^>]+>", " ", html) + " " + labels


def switch(client: Client, language: str, next_url: str = "/"):
    return client.post("/account/language/", {"language": language, "next": next_url})


@pytest.fixture
def kettle(make_product):
    return make_product(stock=3, price_minor=125000, name="Kettle")


def test_newcomers_get_english_unless_their_browser_asks_for_bangla(client, kettle):
    assert '<html lang="en">' in client.get("/").content.decode()
    page = client.get(kettle.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="bn-BD,bn;q=0.9").content
    assert '<html lang="bn">' in page.decode()
    assert "কার্টে যোগ করুন" in page.decode()


def test_the_switch_changes_the_page_and_the_choice_stays_on_other_pages(client, kettle):
    url = kettle.get_absolute_url()
    answer = switch(client, "bn", url)
    assert answer.status_code == 302 and answer["Location"] == url
    assert answer.cookies[COOKIE].value == "bn"
    product = client.get(url).content.decode()
    assert '<html lang="bn">' in product
    for bangla in ["কার্টে যোগ করুন", "এখনই কিনুন", "মাত্র ৩টি বাকি", "পণ্যের বিবরণ"]:
        assert bangla in product, bangla
    home = client.get("/").content.decode()
    assert "শুধু আপনার জন্য" in home
    # The switch offers the other language, in its own name.
    assert 'value="en"' in home and ">English<" in home
    switch(client, "en")
    assert "Just for you" in client.get("/").content.decode()


def test_the_switch_refuses_an_unknown_language_and_changes_nothing(shopper_client, shopper):
    answer = switch(shopper_client, "fr")
    assert answer.status_code == 400
    assert COOKIE not in answer.cookies
    shopper.refresh_from_db()
    assert shopper.language == ""


def test_the_switch_sends_nobody_to_another_site(client):
    answer = switch(client, "bn", "https://evil.example.com/")
    assert answer["Location"] == "/"


def test_bangla_pages_leave_no_english_interface_words(shopper_client, shopper, kettle):
    kettle.category.name = "রান্নাঘর"
    kettle.category.save()
    cart_add_line(user_id=shopper.pk, product_id=kettle.pk, quantity=1)
    switch(shopper_client, "bn")
    for url in ["/", kettle.get_absolute_url(), "/cart/", "/wishlist/", "/orders/"]:
        text = visible_text(shopper_client.get(url).content.decode()).replace("Kettle", "")
        left = [word for word in ENGLISH_UI_WORDS if re.search(rf"\b{word}\b", text)]
        assert left == [], (url, left)


def test_a_signed_in_shoppers_choice_follows_them_to_a_new_browser(shopper_client, shopper):
    switch(shopper_client, "bn")
    shopper.refresh_from_db()
    assert shopper.language == "bn"

    elsewhere = Client()  # a new browser: no cookie, an English Accept-Language
    assert '<html lang="en">' in elsewhere.get("/").content.decode()
    signed_in = elsewhere.post(
        "/account/sign-in/",
        {"username": shopper.email, "password": PASSWORD},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert signed_in.status_code == 302
    page = elsewhere.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="bn">' in page.content.decode()
    assert page.cookies[COOKIE].value == "bn"  # so it holds after signing out there, too


def test_prices_are_written_the_languages_way(client, make_product):
    lamp = make_product(stock=20, price_minor=125000, name="Lamp")
    sofa = make_product(stock=20, price_minor=125000000, name="Sofa")
    english = client.get("/").content.decode()
    assert "৳ 1,250<" in english and "৳ 1,250,000<" in english
    switch(client, "bn")
    bangla = client.get("/").content.decode()
    assert "৳ ১,২৫০<" in bangla
    assert "৳ ১২,৫০,০০০<" in bangla  # lakh grouping
    assert "৳ 1,250<" not in bangla
    assert lamp and sofa


def test_the_javascript_gets_its_words_in_the_pages_language(client):
    switch(client, "bn")
    page = client.get("/").content.decode()
    [data] = re.findall(r'<script id="haat-strings" type="application/json">(.*?)</script>', page)
    assert "কার্টে যোগ করা হয়েছে" in data.encode().decode("unicode_escape")


@pytest.fixture
def paid_order(shopper, make_product, django_capture_on_commit_callbacks, mailoutbox):
    def place_and_pay():
        kettle = make_product(stock=5, price_minor=125000, name="Kettle")
        cart_add_line(user_id=shopper.pk, product_id=kettle.pk, quantity=2)
        order = checkout_start(
            user_id=shopper.pk,
            product_ids=[kettle.pk],
            delivery={
                "name": "Rahima Akter",
                "phone": "+8801711000000",
                "address": "House 12, Road 5, Dhanmondi",
                "city": "Dhaka",
            },
            **URLS,
        )
        with django_capture_on_commit_callbacks(execute=True):
            paid, _ = pay_with_test_card(
                session_id=order.payment_session_id, card_number="4242424242424242"
            )
        assert paid
        [mail] = mailoutbox
        return order, mail

    return place_and_pay


def test_an_order_mail_is_in_the_shoppers_language(shopper, paid_order):
    User.objects.filter(pk=shopper.pk).update(language="bn")
    order, mail = paid_order()
    assert mail.subject == f"Haat: অর্ডার {order.number} নিশ্চিত হয়েছে"
    assert "অর্ডারের জন্য ধন্যবাদ, Rahima Akter!" in mail.body
    assert "২ × Kettle: ৳ ২,৫০০" in mail.body
    assert "সর্বমোট: ৳ ২,৫০০" in mail.body
    [(html, _mimetype)] = mail.alternatives
    assert '<html lang="bn">' in html and "আপনার অর্ডার দেখুন" in html


def test_an_order_mail_is_in_english_for_a_shopper_who_never_chose(shopper, paid_order):
    order, mail = paid_order()
    assert mail.subject == f"Haat: Order {order.number} is confirmed"
    assert "2 × Kettle: ৳ 2,500" in mail.body


def test_the_sign_up_mail_is_in_the_language_it_was_asked_in(client, mailoutbox):
    switch(client, "bn")
    client.post(
        "/account/sign-up/",
        {"email": "new@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    [mail] = mailoutbox
    assert "সাইন আপ শেষ করতে" in mail.subject
    assert "হ্যালো," in mail.body


def test_api_messages_come_in_the_requests_language(shopper_client, make_product):
    product = make_product(stock=2)
    english = shopper_client.delete(f"/api/wishlist/items/{product.pk}")
    assert english.json()["message"] == "This product is not in your wishlist."
    bangla = shopper_client.delete(f"/api/wishlist/items/{product.pk}", HTTP_ACCEPT_LANGUAGE="bn")
    assert bangla.status_code == english.status_code == 404
    assert bangla.json()["code"] == english.json()["code"] == "not_in_wishlist"
    assert bangla.json()["message"] == "এই পণ্যটি আপনার উইশলিস্টে নেই।"
    state = shopper_client.post(
        "/api/cart/lines",
        {"product_id": product.pk, "quantity": 1},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="bn",
    ).json()
    assert state["lines"][0]["availability"]["message"] == "মাত্র ২টি বাকি"


# --- the catalogue itself ------------------------------------------------------------------


def test_the_bangla_catalogue_is_complete():
    catalog = read_po(PO.open("rb"), locale="bn")
    assert catalog.plural_forms == "nplurals=2; plural=(n != 1);"
    messages = [m for m in catalog if m.id]
    assert len(messages) > 300
    untranslated = [
        m.id for m in messages if not all(m.string if isinstance(m.string, tuple) else [m.string])
    ]
    fuzzy = [m.id for m in messages if m.fuzzy]
    assert untranslated == [] and fuzzy == []


def test_the_committed_mo_matches_the_po():
    """``make run`` reads the committed .mo: after editing the .po, compile it again
    (``manage.py compilemessages``)."""

    def entries(catalog):
        return {
            (m.id if isinstance(m.id, str) else tuple(m.id)): (
                m.string if isinstance(m.string, str) else tuple(m.string)
            )
            for m in catalog
            if m.id
        }

    po = entries(read_po(PO.open("rb"), locale="bn"))
    mo = entries(read_mo(MO.open("rb")))
    assert mo == po


@pytest.mark.skipif(not shutil.which("xgettext"), reason="needs GNU gettext (apt install gettext)")
def test_makemessages_finds_no_new_msgid(tmp_path):
    """Every marked string of the code is in the catalogue (run in a copy of the sources)."""
    source = Path(settings.BASE_DIR)
    copy = tmp_path / "src"
    ignore = shutil.ignore_patterns(".venv", ".git", "data", "node_modules", "tests", "bench")
    shutil.copytree(source, copy, ignore=ignore)
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "makemessages",
            "-l",
            "bn",
            "--no-location",
            "--ignore=sanity",
            "--ignore=static",
        ],
        cwd=copy,
        check=True,
        capture_output=True,
    )
    before = {m.id for m in read_po(PO.open("rb")) if m.id}
    after = {m.id for m in read_po((copy / PO.relative_to(source)).open("rb")) if m.id}
    assert after - before == set()
