"""The subsidy demo data: one programme with applications in every state; the used subsidy was applied
to its applicant's car order and written off against it at the order's dealer on delivery."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.cache import cache

from forecourt.accounts.models import Role
from forecourt.accounts.tests.factories import make_user
from forecourt.catalog.snapshots import catalog_cache_clear
from forecourt.catalog.tests.factories import VehicleModelFactory, build_catalogue
from forecourt.core import clock
from forecourt.dealers.tests.factories import DealerFactory, hangzhou, shanghai
from forecourt.offers.demo_subsidies import PROGRAMME_NAME, fake_resident_id, seed_subsidies
from forecourt.offers.models import (
    CouponKind,
    Redemption,
    SubsidyApplication,
    SubsidyProgramme,
    Voucher,
    VoucherStatus,
)
from forecourt.offers.services.subsidies import id_number_normalise
from forecourt.offers.tests.subsidy_fixtures import *  # noqa: F403  (the autouse `media` fixture)
from forecourt.orders.selectors import orders_for_buyer

pytestmark = pytest.mark.django_db


def test_fake_resident_ids_pass_the_check() -> None:
    rng = random.Random(7)
    for _ in range(200):
        number = fake_resident_id(rng)
        assert id_number_normalise(id_type="resident_id", id_number=number) == number


def test_the_demo_programme_has_applications_in_every_state(media: Path) -> None:
    VehicleModelFactory()
    make_user(role=Role.OPS)
    for index in range(8):
        make_user(role=Role.CONSUMER, display_name=f"测试用户{index}")
    programme = seed_subsidies(rng=random.Random(3))
    assert programme is not None and SubsidyProgramme.objects.get().name == PROGRAMME_NAME
    statuses = set(SubsidyApplication.objects.values_list("status", flat=True))
    assert statuses == {"submitted", "approved", "rejected", "withdrawn"}
    assert Voucher.objects.filter(application__isnull=False).count() == 3
    assert len([path for path in media.rglob("*") if path.is_file()]) == 8
    assert seed_subsidies(rng=random.Random(3)) is None


def test_the_used_subsidy_is_written_off_against_its_applicants_delivered_order() -> None:
    cache.clear()
    catalog_cache_clear()
    with clock.frozen_at(clock.now() - timedelta(days=90)):
        build_catalogue()
    # A Hangzhou dealer first: the Shanghai programme's car is bought in Shanghai all the same.
    for city in (hangzhou(), shanghai()):
        dealer = DealerFactory(city=city)
        make_user(role=Role.SALES_ADVISOR, dealer=dealer)
    make_user(role=Role.OPS)
    people = [make_user(role=Role.CONSUMER, display_name=f"测试用户{index}") for index in range(8)]

    programme = seed_subsidies(rng=random.Random(3))

    assert programme is not None
    used = SubsidyApplication.objects.get(applicant=people[0])
    voucher = Voucher.objects.get(application=used)
    [order] = orders_for_buyer(buyer=people[0])
    redemption = Redemption.objects.get(voucher=voucher)
    assert (order.status, order.dealer.city.code, order.trim.model_id) == (
        "delivered",
        "shanghai",
        used.intended_model_id,
    )
    assert [(line["code"], line["kind"]) for line in order.applied_offers] == [
        (voucher.code, CouponKind.SUBSIDY)
    ]
    assert order.discount_fen == 10_000_00 and order.total_fen == order.vehicle_price_fen - 10_000_00
    assert (voucher.status, voucher.order_reference) == (VoucherStatus.REDEEMED, order.number)
    assert (redemption.dealer_id, redemption.order_reference, redemption.value_fen) == (
        order.dealer_id,
        order.number,
        10_000_00,
    )
    assert redemption.redeemed_at < clock.now() and used.submitted_at < order.created_at
    # Only the used subsidy is written off; the other approved ones wait for their orders.
    assert Redemption.objects.count() == 1
    assert Voucher.objects.filter(application__isnull=False, status=VoucherStatus.ACTIVE).count() == 2
