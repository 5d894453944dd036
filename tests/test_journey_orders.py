"""The order journey of issue 4, clicked through in Chromium: a buyer on a phone configures a car, orders
it, pays the intention money and the deposit in the sandbox gateway and follows the task list; the
delivering dealer allocates a car, takes the final payment in store, books and confirms the delivery;
the buyer sees the car delivered. No page of the buyer's is wider than a phone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.test import Client
from playwright.sync_api import Page, expect

from forecourt.accounts.models import Role, User
from forecourt.accounts.services import consumer_get_or_create_by_phone
from forecourt.catalog.configurator import default_choices
from forecourt.catalog.models import SavedConfiguration, Trim
from forecourt.catalog.selectors import trim_snapshot_for
from forecourt.catalog.services import configuration_save
from forecourt.core import clock
from forecourt.dealers.models import City, Dealer
from forecourt.orders.models import EditionStock, LimitedEdition, Order, OrderStatus, VehicleStatus
from forecourt.orders.selectors import delivery_dealer_suggest
from forecourt.orders.services import order_pay_start, order_place, vehicle_add
from forecourt.payments.models import PaymentIntent
from forecourt.payments.selectors import payments_reconcile
from forecourt.payments.services import payment_sandbox_choose

from .test_journeys import (  # noqa: F401 - demo_network is a fixture
    PHONE,
    PHONE_WIDTH,
    STAFF_PASSWORD,
    _code_from_outbox,
    _htmx_ready,
    _main_nav,
    _page_width,
    _workspace_nav,
    demo_network,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECEIPT = "POS-20261123-0088"


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


def _accept_dialogs(page: Page) -> None:
    # "Lock the order?", "Confirm that ¥… was received?": the person says yes.
    page.on("dialog", lambda dialog: dialog.accept())


def _sign_in_by_text(page: Page, base: str) -> None:
    page.goto(f"{base}/account/sign-in/")
    page.fill("#phone", PHONE)
    page.click("#send-code")
    expect(page.locator("#code-sent")).to_be_visible()
    page.fill("#code", _code_from_outbox(page, base))
    page.click("#sign-in")
    page.wait_for_url(f"{base}/")


def _pay_in_the_sandbox(page: Page, base: str, number: str, stage: str, amount: str) -> None:
    """From the order page through the sandbox gateway's page and back, as a buyer pays."""
    expect(page.locator("#due-amount")).to_have_text(amount)
    page.check("#provider-sandbox")
    page.click("#pay-submit")
    page.wait_for_url(re.compile(r"/payments/sandbox/\w+/$"))
    expect(page.locator("#sandbox-amount")).to_have_text(amount)
    assert _page_width(page) <= PHONE_WIDTH
    page.click("#sandbox-pay")
    page.wait_for_url(f"{base}/orders/{number}/?paying={stage}")
    # The notification is credited by the time the page has loaded here (tasks run at once in tests);
    # on a server the page polls until it is.
    expect(page.locator("#payment-progress")).to_have_attribute("data-state", "credited", timeout=20_000)


@pytest.mark.usefixtures("demo_network")
def test_a_car_is_configured_ordered_paid_allocated_and_delivered(
    live_server, phone_viewport_page, browser, settings
) -> None:
    settings.DEMO_MODE = True
    base = live_server.url
    buyer = phone_viewport_page
    _accept_dialogs(buyer)
    shanghai = City.objects.get(code="shanghai")
    delivering = delivery_dealer_suggest(city=shanghai)
    assert delivering is not None
    advisor = User.objects.create_user(
        username="journey-delivery",
        password=STAFF_PASSWORD,
        role=Role.SALES_ADVISOR,
        dealer=delivering,
        display_name="交付专员 刘洋",
    )

    # Configure: the electric sedan with a paid paint, saved.
    _sign_in_by_text(buyer, base)
    _main_nav(buyer).get_by_role("link", name="车型").click()
    buyer.locator('.model-card[data-model="xinglan"] a[href^="/configure/"]').click()
    buyer.wait_for_url(re.compile(r"/configure/[\w-]+/$"))
    _htmx_ready(buyer)
    paid_paint = buyer.locator("#group-paint .choice").filter(has_text="+¥").first
    paid_paint.locator("label").click()
    expect(buyer.locator("#total")).to_have_attribute("data-valid", "true")
    buyer.click("#save-configuration")
    buyer.wait_for_url(re.compile(r"/c/[0-9A-Z]+/$"))
    configuration = SavedConfiguration.objects.get(owner__isnull=False)

    # Order it: Shanghai, the suggested delivery centre, the default lock date.
    buyer.click("#order-this-car-link")
    buyer.wait_for_url(f"{base}/orders/new/{configuration.share_code}/")
    _htmx_ready(buyer)
    buyer.select_option("#order-city", "shanghai")
    expect(buyer.locator("#order-dealer")).to_have_value(delivering.public_id)
    assert _page_width(buyer) <= PHONE_WIDTH
    buyer.click("#place-order")
    buyer.wait_for_url(re.compile(r"/orders/FO[0-9A-Z]+/$"))
    order = Order.objects.get()
    assert (order.buyer.masked_phone, order.dealer_id, order.configuration_id) == (
        "138****8000",
        delivering.pk,
        configuration.pk,
    )
    expect(buyer.locator("#order-number")).to_have_text(order.number)
    expect(buyer.locator('.task[data-task="intention"]')).to_have_attribute("data-state", "next")
    assert _page_width(buyer) <= PHONE_WIDTH

    # Pay the intention money, then the deposit, in the sandbox; the task list ticks them off.
    _pay_in_the_sandbox(buyer, base, order.number, "intention", "¥2,000")
    expect(buyer.locator('.task[data-task="intention"]')).to_have_attribute("data-state", "done")
    expect(buyer.locator('.task[data-task="deposit"]')).to_have_attribute("data-state", "next")
    _pay_in_the_sandbox(buyer, base, order.number, "deposit", "¥18,000")
    expect(buyer.locator('.task[data-task="deposit"]')).to_have_attribute("data-state", "done")
    expect(buyer.locator("#amount-paid")).to_have_text("¥20,000")
    expect(buyer.locator("#amount-refundable")).to_have_text("¥20,000")
    assert _page_width(buyer) <= PHONE_WIDTH

    # Lock it, so the dealer can allocate a car; a matching car has come into the dealer's stock.
    buyer.click("#lock-submit")
    expect(buyer.locator("#order")).to_have_attribute("data-status", "locked")
    expect(buyer.locator('.task[data-task="allocation"]')).to_have_attribute("data-state", "waiting")
    order.refresh_from_db()
    car = vehicle_add(
        vin="LFCXL26T5TS000421", trim=order.trim, option_codes=list(order.option_codes), dealer=delivering
    )

    # The dealer: allocate the car, take the final payment in store, book and confirm the delivery.
    staff_context = browser.new_context(viewport={"width": PHONE_WIDTH, "height": 812}, locale="zh-CN")
    try:
        staff = staff_context.new_page()
        _accept_dialogs(staff)
        staff.goto(f"{base}/account/sign-in/")
        staff.click("#tab-password")
        staff.fill("#username", advisor.username)
        staff.fill("#password", STAFF_PASSWORD)
        staff.click("#sign-in-password")
        staff.wait_for_url(f"{base}/workspace/leads/")
        _workspace_nav(staff).get_by_role("link", name="订单").click()
        staff.wait_for_url(f"{base}/workspace/orders/")
        staff.locator(f'[data-number="{order.number}"] a').click()
        expect(staff.locator("#order-status")).to_have_text("已锁单")
        expect(staff.locator("#amount-total")).to_have_text(f"¥{order.total_fen // 100:,}")
        staff.check(f'input[name="vin"][value="{car.vin}"]')
        staff.click("#allocate-submit")
        expect(staff.locator("#order-vin")).to_have_text(car.vin)
        final = f"¥{(order.total_fen - order.deposit_fen) // 100:,}"
        expect(staff.locator("#final-amount")).to_have_text(final)
        staff.fill("#receipt-number", RECEIPT)
        staff.click("#final-payment-submit")
        expect(staff.locator("#order-status")).to_have_text("已付尾款")
        delivery_at = (clock.local_now() + timedelta(days=2)).strftime("%Y-%m-%dT10:00")
        staff.fill("#delivery-at", delivery_at)
        staff.click("#delivery-submit")
        expect(staff.locator("#order-status")).to_have_text("待交付")
        staff.click("#deliver-submit")
        expect(staff.locator("#order-status")).to_have_text("已交付")
        assert _page_width(staff) <= PHONE_WIDTH
    finally:
        staff_context.close()

    # The buyer sees it delivered, with the car's VIN and every step done.
    buyer.reload()
    expect(buyer.locator("#order")).to_have_attribute("data-status", "delivered")
    expect(buyer.locator("#order-delivered")).to_be_visible()
    expect(buyer.locator("#order-vin")).to_have_text(car.vin)
    expect(buyer.locator('.task[data-state="done"]')).to_have_count(8)
    assert _page_width(buyer) <= PHONE_WIDTH
    _main_nav(buyer).get_by_role("link", name="我的订单").click()
    expect(buyer.locator(f'[data-number="{order.number}"]')).to_have_attribute("data-status", "delivered")

    order.refresh_from_db()
    car.refresh_from_db()
    assert (order.status, order.paid_fen, order.vehicle_id) == (
        OrderStatus.DELIVERED,
        order.total_fen,
        car.pk,
    )
    assert car.status == VehicleStatus.DELIVERED
    final_intent = PaymentIntent.objects.get(reference=order.number, purpose="order.final")
    assert (final_intent.provider, final_intent.receipt_number) == ("offline", RECEIPT)
    assert sorted(
        PaymentIntent.objects.filter(reference=order.number).values_list("provider", flat=True)
    ) == [
        "offline",
        "sandbox",
        "sandbox",
    ]
    assert payments_reconcile() == []
    assert Dealer.objects.filter(pk=delivering.pk, offers_delivery=True).exists()


def _signed_in_as(page: Page, base: str, user: User) -> None:
    """Sign the browser in as `user` (the sign-in pages have their own journeys)."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": base}])


@pytest.mark.usefixtures("demo_network")
def test_no_order_page_is_wider_than_a_phone(live_server, phone_viewport_page) -> None:
    page = phone_viewport_page
    base = live_server.url
    buyer = consumer_get_or_create_by_phone(phone=PHONE, display_name="张伟")
    trim = Trim.objects.select_related("model").get(code="xl-performance")
    options = default_choices(trim_snapshot_for(trim.code))
    configuration = configuration_save(trim_code=trim.code, option_codes=options, owner=buyer)
    order = order_place(buyer=buyer, configuration=configuration, city=City.objects.get(code="shanghai"))
    launch = Trim.objects.get(code="xl-launch")
    edition = LimitedEdition.objects.create(
        code="xinglan-launch",
        name="星澜 首发限量版",
        name_en="Xinglan Launch Edition",
        trim=launch,
        option_codes=sorted(default_choices(trim_snapshot_for(launch.code))),
        sale_starts_at=clock.now() - timedelta(hours=1),
        sale_ends_at=clock.now() + timedelta(days=7),
    )
    for code, units in (("shanghai", 20), ("beijing", 10), ("hangzhou", 5)):
        EditionStock.objects.create(edition=edition, city=City.objects.get(code=code), units_total=units)
    held = order_place(buyer=buyer, edition=edition, city=City.objects.get(code="beijing"))
    staff = User.objects.create_user(
        username="width-staff", password=STAFF_PASSWORD, role=Role.DEALER_MANAGER, dealer=order.dealer
    )
    buyer_paths = [
        "/orders/",
        f"/orders/new/{configuration.share_code}/?city=shanghai",
        f"/orders/{order.number}/",
        f"/orders/{order.number}/?paying=intention",
        f"/orders/{order.number}/cancel/",
        f"/orders/{order.number}/change/",
        f"/orders/{held.number}/",
        "/limited/",
        f"/limited/{edition.code}/?city=shanghai",
        f"/c/{configuration.share_code}/",
        "/",
    ]
    staff_paths = ["/workspace/orders/", f"/workspace/orders/{order.number}/"]

    too_wide = {}
    for user, paths in ((buyer, buyer_paths), (staff, staff_paths)):
        page.context.clear_cookies()
        _signed_in_as(page, base, user)
        for language in ("zh-hans", "en"):
            page.context.add_cookies(
                [{"name": django_settings.LANGUAGE_COOKIE_NAME, "value": language, "url": base}]
            )
            for path in paths:
                response = page.goto(base + path)
                assert response is not None and response.status == 200, path
                width = _page_width(page)
                if width > PHONE_WIDTH:
                    too_wide[f"{language} {path}"] = width

    assert too_wide == {}


@pytest.mark.usefixtures("demo_network")
def test_the_order_page_waits_for_the_gateway_and_moves_on_when_the_payment_is_credited(
    live_server, phone_viewport_page
) -> None:
    page = phone_viewport_page
    base = live_server.url
    buyer = consumer_get_or_create_by_phone(phone=PHONE, display_name="张伟")
    trim = Trim.objects.get(code="xl-performance")
    configuration = configuration_save(
        trim_code=trim.code, option_codes=default_choices(trim_snapshot_for(trim.code)), owner=buyer
    )
    order = order_place(buyer=buyer, configuration=configuration, city=City.objects.get(code="shanghai"))
    # The buyer has been to the gateway's page; its notification has not arrived yet.
    order_pay_start(order=order, stage="intention", provider="sandbox", return_url="/", actor=buyer)
    intent = PaymentIntent.objects.get(reference=order.number)
    _signed_in_as(page, base, buyer)

    page.goto(f"{base}/orders/{order.number}/?paying=intention")
    _htmx_ready(page)
    expect(page.locator("#payment-progress")).to_have_attribute("data-state", "processing")
    expect(page.locator('.task[data-task="intention"]')).to_have_attribute("data-state", "next")

    payment_sandbox_choose(intent=intent, choice="pay")

    expect(page.locator("#payment-progress")).to_have_attribute("data-state", "credited", timeout=15_000)
    expect(page.locator('.task[data-task="intention"]')).to_have_attribute("data-state", "done")
    expect(page.locator("#amount-paid")).to_have_text("¥2,000")
