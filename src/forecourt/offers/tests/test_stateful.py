"""A Hypothesis state machine over claim / place and apply (through the real `order_place`) / redeem /
refund / expire / cancel, across campaigns with count and money budgets, per-person limits, stacking
rules and a low floor, and several people. After every step the ledgers must still add up."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.db.models import Count, Q
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from forecourt.catalog.services import configuration_save
from forecourt.core import clock
from forecourt.core.errors import DomainError
from forecourt.offers.models import (
    Campaign,
    ClaimTally,
    CouponKind,
    OnCancel,
    PriceFloor,
    Redemption,
    Voucher,
    VoucherStatus,
)
from forecourt.offers.services import campaign_claim, vouchers_redeem_for_order
from forecourt.offers.tests.factories import make_campaign
from forecourt.offers.tests.ordering_cast import *  # noqa: F403
from forecourt.offers.tests.ordering_cast import (
    MONDAY_10,
    STD_CHOICES,
    STD_TOTAL,
    committed,
    consumer,
    fresh,
    pay,
)
from forecourt.orders.models import Order, OrderStatus
from forecourt.orders.services import order_cancel, order_offers_apply, order_place

pytestmark = pytest.mark.django_db

PEOPLE = 3
# A low floor for the test car: the exclusive ¥30,000 coupon reaches it.
LOW_FLOOR = STD_TOTAL - 25_000_00
CAST: dict[str, Any] = {}


def _campaigns() -> list[Campaign]:
    cash = make_campaign(name="cash", face_value_fen=2_000_00, budget_count=4, per_person_limit=2)
    percent = make_campaign(
        name="percent",
        kind=CouponKind.PERCENT_OFF,
        percent_off_bp=500,
        percent_cap_fen=5_000_00,
        budget_count=None,
        budget_fen=15_000_00,
        max_order_discount_fen=6_000_00,
        on_cancel=OnCancel.VOID,
        stackable_with=[cash],
    )
    exclusive = make_campaign(name="exclusive", face_value_fen=30_000_00, exclusive=True, budget_count=3)
    short = make_campaign(
        name="short", face_value_fen=10_000_00, valid_days=10, budget_count=5, stackable_with=[cash, percent]
    )
    return [cash, percent, exclusive, short]


class CouponsOnOrders(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self._clock = clock.frozen_at(MONDAY_10)
        self._clock.__enter__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.campaigns = _campaigns()
        self.people = [consumer(100 + index) for index in range(PEOPLE)]
        self.configurations = [
            configuration_save(trim_code="aurora-std", option_codes=STD_CHOICES, owner=person)
            for person in self.people
        ]
        self.orders: list[Order] = []

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)
        self._clock.__exit__(None, None, None)

    def _codes_of(self, person_index: int, picks: list[int]) -> list[str]:
        codes = list(
            Voucher.objects.filter(holder=self.people[person_index])
            .order_by("pk")
            .values_list("code", flat=True)
        )
        return [codes[pick % len(codes)] for pick in picks] if codes else []

    # ---- Rules ----------------------------------------------------------------------------------------

    @rule(person=st.integers(0, PEOPLE - 1), campaign=st.integers(0, 3))
    def claim(self, person: int, campaign: int) -> None:
        try:
            campaign_claim(
                campaign=Campaign.objects.get(pk=self.campaigns[campaign].pk), holder=self.people[person]
            )
        except DomainError as error:
            assert error.code in ("limit_reached", "budget_exhausted", "not_eligible")

    @rule(
        person=st.integers(0, PEOPLE - 1),
        picks=st.lists(st.integers(0, 20), max_size=3),
        someone_else=st.booleans(),
    )
    def place(self, person: int, picks: list[int], someone_else: bool) -> None:
        # Now and then a code of another person is tried: it must be refused.
        holder = (person + 1) % PEOPLE if someone_else else person
        codes = self._codes_of(holder, picks)
        try:
            order = order_place(
                buyer=self.people[person],
                configuration=self.configurations[person],
                dealer=CAST["dealer"],
                voucher_codes=codes,
            )
        except DomainError as error:
            assert error.status == 409
            return
        assert not (someone_else and codes)
        self.orders.append(order)

    @rule(order=st.integers(0, 50), picks=st.lists(st.integers(0, 20), max_size=3))
    def apply(self, order: int, picks: list[int]) -> None:
        if not self.orders:
            return
        target = fresh(self.orders[order % len(self.orders)])
        person = next(i for i, p in enumerate(self.people) if p.pk == target.buyer_id)
        try:
            order_offers_apply(order=target, codes=self._codes_of(person, picks), actor=target.buyer)
        except DomainError as error:
            assert error.status == 409

    @rule(order=st.integers(0, 50))
    def redeem(self, order: int) -> None:
        if self.orders:
            target = fresh(self.orders[order % len(self.orders)])
            if target.status != OrderStatus.CANCELLED:
                vouchers_redeem_for_order(order_reference=target.number, dealer=target.dealer)

    @rule(order=st.integers(0, 50))
    def refund(self, order: int) -> None:
        if not self.orders:
            return
        target = fresh(self.orders[order % len(self.orders)])
        if target.status != OrderStatus.CREATED:
            return
        pay(target, "intention")
        with committed():
            order_cancel(order=fresh(target), actor=target.buyer)

    @rule(order=st.integers(0, 50))
    def cancel(self, order: int) -> None:
        if not self.orders:
            return
        target = fresh(self.orders[order % len(self.orders)])
        if target.can_cancel():
            with committed():
                order_cancel(order=target, actor=target.buyer)

    @rule(days=st.integers(1, 12))
    def expire(self, days: int) -> None:
        clock.advance(timedelta(days=days))

    # ---- Invariants -----------------------------------------------------------------------------------

    @invariant()
    def budgets_hold(self) -> None:
        for campaign in Campaign.objects.filter(pk__in=[c.pk for c in self.campaigns]):
            if campaign.budget_count is not None:
                assert campaign.claimed_count <= campaign.budget_count
            if campaign.budget_fen is not None:
                assert campaign.claimed_fen <= campaign.budget_fen
            assert campaign.claimed_count == Voucher.objects.filter(campaign=campaign).count()

    @invariant()
    def per_person_limits_hold(self) -> None:
        for tally in ClaimTally.objects.select_related("campaign"):
            assert tally.claimed <= tally.campaign.per_person_limit
            assert (
                tally.claimed == Voucher.objects.filter(campaign=tally.campaign, holder=tally.holder).count()
            )

    @invariant()
    def each_voucher_redeemed_at_most_once(self) -> None:
        standing = (
            Redemption.objects.filter(reversed_at__isnull=True).values("voucher").annotate(n=Count("id"))
        )
        assert all(row["n"] == 1 for row in standing)
        redeemed = set(Voucher.objects.filter(status=VoucherStatus.REDEEMED).values_list("pk", flat=True))
        assert redeemed <= {row["voucher"] for row in standing}

    @invariant()
    def orders_add_up_and_hold_the_floor(self) -> None:
        live_codes: Counter[str] = Counter()
        for order in Order.objects.all():
            assert order.total_fen >= order.floor_fen > 0
            values = [offer["value_fen"] for offer in order.applied_offers]
            assert (
                order.total_fen
                == order.vehicle_price_fen - sum(values)
                == order.vehicle_price_fen - order.discount_fen
            )
            assert order.deposit_fen <= order.total_fen
            if order.status == OrderStatus.CANCELLED:
                # Nothing stays on a cancelled (refunded) order: released, or void if it was written off.
                assert not Voucher.objects.filter(
                    order_reference=order.number,
                    status__in=[VoucherStatus.APPLIED, VoucherStatus.REDEEMED, VoucherStatus.ACTIVE],
                ).exists()
                continue
            codes = [offer["code"] for offer in order.applied_offers]
            live_codes.update(codes)
            standing = Voucher.objects.filter(
                order_reference=order.number, status__in=[VoucherStatus.APPLIED, VoucherStatus.REDEEMED]
            )
            assert sorted(standing.values_list("code", flat=True)) == sorted(codes)
            assert sum(standing.values_list("applied_value_fen", flat=True)) == order.discount_fen
        assert all(count == 1 for count in live_codes.values())
        assert not Voucher.objects.filter(
            Q(status=VoucherStatus.APPLIED)
            & ~Q(
                order_reference__in=[
                    order.number for order in Order.objects.exclude(status=OrderStatus.CANCELLED)
                ]
            )
        ).exists()


def test_coupons_budgets_limits_and_the_floor_hold_in_any_sequence(catalogue, dealer):
    PriceFloor.objects.create(trim=catalogue.std, floor_fen=LOW_FLOOR)
    CAST["dealer"] = dealer
    run_state_machine_as_test(
        CouponsOnOrders,
        settings=settings(
            max_examples=30,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
