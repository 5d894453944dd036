"""The ops console: orders are shown, never edited; stock and limited editions are managed there."""

from __future__ import annotations

import pytest
from django.test import Client

from forecourt.accounts.models import Role
from forecourt.accounts.tests.factories import make_user


@pytest.fixture
def console(db) -> Client:
    client = Client()
    client.force_login(make_user(username="root", role=Role.OPS, is_staff=True, is_superuser=True))
    return client


def test_order_pages_are_read_only(console, order):
    assert console.get("/ops/orders/order/").status_code == 200
    assert console.get(f"/ops/orders/order/{order.pk}/change/").status_code == 200
    assert console.get("/ops/orders/order/add/").status_code == 403


def test_stock_and_editions_pages_open(console, edition, car):
    for path in (
        "/ops/orders/vehicle/",
        "/ops/orders/vehicle/add/",
        f"/ops/orders/vehicle/{car.pk}/change/",
        "/ops/orders/limitededition/",
        f"/ops/orders/limitededition/{edition.pk}/change/",
        "/ops/orders/editionhold/",
        "/ops/orders/orderpayment/",
    ):
        assert console.get(path).status_code == 200, path
