"""The orders demo data: every state at the demo dealer, made through the services and the sandbox, so the
ledger, the notifications and the orders agree; cars in stock; a limited edition on sale.

One test, because seeding the network and the catalogue takes a few seconds."""

import random
from collections import Counter

import pytest

from forecourt.accounts import demo_data as accounts_demo
from forecourt.accounts.models import User
from forecourt.catalog import demo_data as catalog_demo
from forecourt.core import clock
from forecourt.core.demo_people import DEMO_CONSUMER_PHONE
from forecourt.core.models import Event
from forecourt.core.phones import normalise_mainland_mobile, phone_hash
from forecourt.dealers import demo_data as dealers_demo
from forecourt.dealers.models import Dealer
from forecourt.orders import demo_data
from forecourt.orders.models import EditionStock, Order, OrderLateDay, OrderStatus, Vehicle
from forecourt.orders.reconciliation import orders_reconcile
from forecourt.orders.selectors import editions_on_sale, vehicles_for_order
from forecourt.payments.models import PaymentIntent
from forecourt.payments.selectors import payments_reconcile

from .conftest import MONDAY_10

pytestmark = pytest.mark.django_db


def test_demo_orders_cover_every_state_and_reconcile():
    rng = random.Random(11)
    with clock.frozen_at(MONDAY_10):
        for module in (dealers_demo, catalog_demo, accounts_demo, demo_data):
            module.seed(rng=rng)
        first = Dealer.objects.order_by("id").first()
        assert first is not None
        sales = User.objects.get(username="demo-sales")
        consumer = User.objects.get(phone_hash=phone_hash(normalise_mainland_mobile(DEMO_CONSUMER_PHONE)))
        locked = list(Order.objects.filter(dealer=first, status=OrderStatus.LOCKED))
        matching = [len(vehicles_for_order(order=order)) for order in locked]
        offers = editions_on_sale()

    assert sales.dealer_id == first.pk
    at_demo_dealer = Counter(Order.objects.filter(dealer=first).values_list("status", flat=True))
    assert set(at_demo_dealer) == set(OrderStatus.values), at_demo_dealer
    assert Order.objects.exclude(dealer=first).exclude(edition__isnull=False).exists()
    mine = set(Order.objects.filter(buyer=consumer).values_list("status", flat=True))
    assert {OrderStatus.DEPOSIT_PAID, OrderStatus.DELIVERED, OrderStatus.CANCELLED} <= mine
    cancelled = Order.objects.filter(status=OrderStatus.CANCELLED, refunded_fen__gt=0)
    assert cancelled.exists()

    # One delivery came late: compensation accrued per day, as events.
    late = OrderLateDay.objects.values_list("order", flat=True).distinct()
    assert late.count() >= 1
    assert Event.objects.filter(name="order.delivery_late").count() == OrderLateDay.objects.count()
    assert Order.objects.get(pk=late[0]).status == OrderStatus.DELIVERED

    # Cars in stock at the demo dealer, at other dealers and at the maker; every locked order can get one.
    assert Vehicle.objects.filter(dealer=first, status="available").count() >= 6
    assert Vehicle.objects.filter(dealer__isnull=True, status="available").count() >= 8
    assert Vehicle.objects.exclude(dealer=first).exclude(dealer__isnull=True).exists()
    assert locked and all(count >= 1 for count in matching)

    # The limited edition: on sale, units per city, some sold, one city sold out.
    assert [offer.edition.code for offer in offers] == ["xinglan-launch"]
    stocks = {
        stock.city.code: stock
        for stock in EditionStock.objects.select_related("city")
        if stock.city is not None
    }
    assert set(stocks) == {"shanghai", "beijing", "hangzhou", "suzhou"}
    assert stocks["suzhou"].is_sold_out and stocks["shanghai"].units_sold > 0
    assert all(stock.units_held == 0 for stock in stocks.values())

    # Money moved through payments: sandbox online, offline in store; everything agrees.
    providers = set(PaymentIntent.objects.filter(status="succeeded").values_list("provider", flat=True))
    assert providers == {"sandbox", "offline"}
    assert payments_reconcile() == []
    assert list(orders_reconcile()) == []
