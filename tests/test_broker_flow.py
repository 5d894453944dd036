"""The broker programme end to end (issue 6): a broker shares a link → a friend opens it and books a test
drive → checks in at the store (CPL pending, then available) → orders and takes delivery (CPS once the
return window has passed) → returns the car (the CPS is clawed back, though already paid). The broker's
page shows every step, and the monthly statements pay the CPL and the CPS and net the clawback.

Every step goes through the real pages and services (booking page, check-in, orders, the sandbox gateway,
refunds); the referrals subscribers react to the events exactly as after a real commit.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from io import StringIO
from typing import Any, cast

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client
from django.utils import translation

from forecourt.accounts.models import Role, User
from forecourt.accounts.tests.factories import UserFactory
from forecourt.appointments.models import Appointment
from forecourt.appointments.services import appointment_check_in
from forecourt.catalog.services import configuration_save
from forecourt.catalog.snapshots import catalog_cache_clear
from forecourt.catalog.tests.factories import build_catalogue
from forecourt.core import clock
from forecourt.core.clock import SHANGHAI
from forecourt.core.middleware import DEVICE_COOKIE
from forecourt.core.models import Event
from forecourt.core.money import Money
from forecourt.dealers.models import Dealer
from forecourt.dealers.tests.factories import DealerFactory, shanghai
from forecourt.orders.models import Order
from forecourt.orders.services import (
    order_allocate_vehicle,
    order_delivery_book,
    order_delivery_confirm,
    order_lock,
    order_place,
    vehicle_add,
)
from forecourt.orders.tests.conftest import STD_CHOICES, committed, fresh, pay
from forecourt.payments.models import PaymentIntent
from forecourt.payments.services import payment_refund
from forecourt.referrals.models import Broker, Commission, CommissionKind, CommissionRule, Referral, Stage
from forecourt.referrals.services import broker_enrol
from forecourt.referrals.services.statements import payout_record, statement_issue
from forecourt.referrals.statement_selectors import statement_draft

pytestmark = pytest.mark.django_db

# Monday 23 November 2026, 08:00 in Shanghai: the stores open at 09:00.
MONDAY_8 = datetime(2026, 11, 23, 8, 0, tzinfo=SHANGHAI)
TUESDAY_10 = datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI)
HOURS = {day: ["09:00", "18:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
FRIEND_PHONE = "13912345678"
CPL_FEN = 200_00
CPS_FEN = 2_000_00


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    cache.clear()
    catalog_cache_clear()
    yield
    cache.clear()
    catalog_cache_clear()


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _order_amounts(settings) -> None:
    settings.ORDERS_INTENTION_FEN = 2_000_00
    settings.ORDERS_DEPOSIT_FEN = 20_000_00
    settings.REFERRALS_CPL_HOLD_DAYS = 3
    settings.REFERRALS_RETURN_WINDOW_DAYS = 7


def _broker_page(client: Client) -> str:
    response = client.get("/broker/")
    assert response.status_code == 200
    return response.content.decode()


def _stage_on_page(page: str, referral: Referral) -> str:
    marker = f'data-referral-id="{referral.public_id}" data-stage="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


def _commissions_on_page(page: str) -> list[tuple[str, str]]:
    """(kind, status) of every commission the broker's page lists."""
    found = []
    for chunk in page.split('data-commission-kind="')[1:]:
        kind = chunk[: chunk.index('"')]
        status_marker = 'data-commission-status="'
        start = chunk.index(status_marker) + len(status_marker)
        found.append((kind, chunk[start : chunk.index('"', start)]))
    return found


def _total(page: str, status: str) -> str:
    marker = f'id="total-{status}">'
    start = page.index(marker) + len(marker)
    return page[start : page.index("<", start)]


def _sweep() -> None:
    call_command("referrals_sweep", stdout=StringIO())


@dataclass(frozen=True)
class _Programme:
    """The cast: a Shanghai dealer and its advisor, ops, the catalogue, and the broker signed in."""

    catalogue: Any
    dealer: Dealer
    advisor: User
    ops: User
    broker: Broker
    broker_client: Client


def _programme() -> _Programme:
    with clock.frozen_at(MONDAY_8 - timedelta(days=30)):
        catalogue = build_catalogue()
    with clock.frozen_at(MONDAY_8):
        dealer = cast(Dealer, DealerFactory(name="上海浦西4S店", city=shanghai(), opening_hours=HOURS))
        advisor = cast(User, UserFactory(username="advisor-wang", role=Role.SALES_ADVISOR, dealer=dealer))
        ops = cast(User, UserFactory(username="ops-zhou", role=Role.OPS, display_name="运营 周敏"))
        CommissionRule.objects.create(kind=CommissionKind.CPL, amount_fen=CPL_FEN)
        CommissionRule.objects.create(kind=CommissionKind.CPS, model_code="aurora", amount_fen=CPS_FEN)
        broker_user = cast(User, UserFactory(username="broker-lin", role=Role.BROKER, display_name="林浩"))
        broker = broker_enrol(user=broker_user, actor=ops, kind="professional", city=dealer.city)
    broker_client = Client(HTTP_ACCEPT_LANGUAGE="en")
    broker_client.force_login(broker_user)
    return _Programme(catalogue, dealer, advisor, ops, broker, broker_client)


def _share_and_book(world: _Programme) -> tuple[Appointment, Referral]:
    """Monday: the broker shares the 极光 link; a friend opens it and books a test drive for Tuesday."""
    broker = world.broker
    with clock.frozen_at(MONDAY_8):
        # The broker copies the 极光 link from their page and shares it.
        link = f"http://testserver/r/{broker.code}/?m=aurora"
        assert f'value="{link}"' in _broker_page(world.broker_client)

        # A friend opens it on their phone and books a test drive for Tuesday 10:00.
        friend_client = Client(HTTP_ACCEPT_LANGUAGE="en")
        friend_client.cookies[DEVICE_COOKIE] = "friendsphone-00000000001"
        assert friend_client.get(link.removeprefix("http://testserver")).status_code == 200
        assert (
            'href="/test-drive/?model=aurora"'
            in friend_client.get(f"/r/{broker.code}/?m=aurora").content.decode()
        )
        with committed():
            booked = friend_client.post(
                "/test-drive/?model=aurora",
                {
                    "dealer": world.dealer.public_id,
                    "start": TUESDAY_10.isoformat(),
                    "name": "王芳",
                    "phone": FRIEND_PHONE,
                    "model": "aurora",
                    "share_with_dealer": "on",
                },
            )
        assert booked.status_code == 302, booked.content.decode()[:500]
        appointment = Appointment.objects.get()
        referral = Referral.objects.get()
        assert (referral.broker, referral.lead_public_id, referral.stage, referral.clicked_at) == (
            broker,
            appointment.lead_id,
            Stage.REFERRED,
            MONDAY_8,
        )
        page = _broker_page(world.broker_client)
        assert _stage_on_page(page, referral) == "referred" and "王*" in page
    return appointment, referral


def _check_in(world: _Programme, appointment: Appointment, referral: Referral) -> None:
    """Tuesday: the friend arrives and is checked in. The CPL is earned, pending for three days."""
    with clock.frozen_at(TUESDAY_10):
        with committed():
            appointment_check_in(code_or_payload=appointment.code, staff=world.advisor)
        page = _broker_page(world.broker_client)
        assert _stage_on_page(page, referral) == "qualified"
        assert _commissions_on_page(page) == [("cpl", "pending")]
        assert _total(page, "pending") == "¥200"


def _order_to_delivery_booked(world: _Programme, referral: Referral) -> tuple[Order, PaymentIntent]:
    """The friend orders the car and pays; the dealer allocates one and books the delivery. Returns the
    order and its final payment."""
    friend = referral.person
    configuration = configuration_save(trim_code="aurora-std", option_codes=STD_CHOICES, owner=friend)
    with committed():
        order = order_place(buyer=friend, configuration=configuration, dealer=world.dealer)
    assert _stage_on_page(_broker_page(world.broker_client), referral) == "ordered"
    pay(order, "intention")
    pay(order, "deposit")
    order = order_lock(order=fresh(order), actor=friend)
    car = vehicle_add(
        vin="LRWYGCEK8PC000001", trim=world.catalogue.std, option_codes=STD_CHOICES, dealer=world.dealer
    )
    order = order_allocate_vehicle(order=order, vehicle=car, actor=world.advisor)
    final_intent = pay(order, "final")
    order_delivery_book(order=fresh(order), delivery_at=clock.now() + timedelta(days=1), actor=world.advisor)
    return order, final_intent


def _return_the_car(world: _Programme, referral: Referral, order: Order, final_intent: PaymentIntent) -> None:
    """10 December: the friend returns the car and is refunded. The CPS is clawed back though paid."""
    with clock.frozen_at(datetime(2026, 12, 10, 11, 0, tzinfo=SHANGHAI)):
        with committed():
            payment_refund(
                intent=final_intent, amount=Money(5_000_00), reason="退车", idempotency_key="return:friend"
            )
        assert fresh(order).refunded_fen == 5_000_00
        page = _broker_page(world.broker_client)
        assert _stage_on_page(page, referral) == "lost"
        assert sorted(_commissions_on_page(page)) == [("cpl", "paid"), ("cps", "clawed_back")]
        assert _total(page, "clawed_back") == "¥2,000"
        clawed = Event.objects.get(name="commission.clawed_back")
        assert (clawed.payload["was"], clawed.payload["reason"]) == ("paid", "order_returned")


def test_a_referral_from_link_to_return_pays_cpl_and_cps_and_claws_the_cps_back(settings) -> None:
    world = _programme()
    broker, broker_client, ops = world.broker, world.broker_client, world.ops
    appointment, referral = _share_and_book(world)

    _check_in(world, appointment, referral)

    # Friday: the hold has ended. The page says so before the sweeper writes it down.
    with clock.frozen_at(TUESDAY_10 + timedelta(days=3)):
        assert _commissions_on_page(_broker_page(broker_client)) == [("cpl", "available")]
        _sweep()
        assert Commission.objects.get(kind=CommissionKind.CPL).status == "available"
        assert _total(_broker_page(broker_client), "available") == "¥200"
        order, final_intent = _order_to_delivery_booked(world, referral)

    # Saturday: the car is delivered. The CPS is earned, pending until the return window has passed.
    delivered_at = TUESDAY_10 + timedelta(days=4, hours=1)
    with clock.frozen_at(delivered_at):
        with committed():
            order_delivery_confirm(order=fresh(order), actor=world.advisor)
        page = _broker_page(broker_client)
        assert _stage_on_page(page, referral) == "delivered"
        assert sorted(_commissions_on_page(page)) == [("cpl", "available"), ("cps", "pending")]
        cps = Commission.objects.get(kind=CommissionKind.CPS)
        assert (cps.amount_fen, cps.available_at) == (CPS_FEN, delivered_at + timedelta(days=7))

    # 1 December: November's statement pays the CPL (under ¥800: no tax), and ops record the transfer.
    with clock.frozen_at(datetime(2026, 12, 1, 9, 0, tzinfo=SHANGHAI)):
        november = statement_issue(broker=broker, month="2026-11", actor=ops)
        assert (november.gross_fen, november.tax_fen, november.net_fen) == (CPL_FEN, 0, CPL_FEN)
        payout_record(statement=november, reference="BANK-20261201-001", actor=ops)
        assert _total(_broker_page(broker_client), "paid") == "¥200"

    # The return window has passed: the sale is confirmed (loyalty's cue) and the CPS is available.
    with clock.frozen_at(delivered_at + timedelta(days=7, minutes=1)):
        _sweep()
        page = _broker_page(broker_client)
        assert _stage_on_page(page, referral) == "converted"
        assert sorted(_commissions_on_page(page)) == [("cpl", "paid"), ("cps", "available")]
        assert Event.objects.filter(name="referral.converted", subject_id=referral.public_id).count() == 1

    # 7 December: December's statement so far pays the CPS (¥2,000 − 20% of ¥1,200 withheld).
    with clock.frozen_at(datetime(2026, 12, 7, 9, 0, tzinfo=SHANGHAI)):
        december = statement_issue(broker=broker, month="2026-12", actor=ops)
        assert (december.gross_fen, december.tax_fen, december.net_fen) == (CPS_FEN, 240_00, 1_760_00)
        payout_record(statement=december, reference="BANK-20261207-001", actor=ops)

    _return_the_car(world, referral, order, final_intent)

    # The next statement nets the clawback of paid commission (nothing earned yet: it waits, carried).
    january = statement_draft(
        broker=broker, month=datetime(2027, 1, 1).date(), at=datetime(2027, 2, 1, 9, 0, tzinfo=SHANGHAI)
    )
    assert [commission.pk for commission in january.carried + january.netted] == [cps.pk]
