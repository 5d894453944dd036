"""The loyalty demo data: on a fresh database after the upstream seeds, earn rules for every source, tier
rules and benefits, 5–8 rewards at the partner merchants, members in every tier, and the demo consumer's
points earned, pending, expiring, spent and reversed. One test: seeding is slow."""

from __future__ import annotations

import random
from datetime import datetime

import pytest

from forecourt.accounts import demo_data as accounts_demo
from forecourt.accounts.models import User
from forecourt.catalog import demo_data as catalog_demo
from forecourt.core import clock
from forecourt.core.clock import SHANGHAI
from forecourt.core.demo_people import DEMO_CONSUMER_PHONE
from forecourt.core.phones import normalise_mainland_mobile, phone_hash
from forecourt.dealers import demo_data as dealers_demo
from forecourt.loyalty import demo_data
from forecourt.loyalty.models import (
    EarnRule,
    EarnSource,
    EntryKind,
    Member,
    PointsEntry,
    Reward,
    RewardOrderStatus,
    Tier,
    TierBenefit,
    TierRule,
)
from forecourt.loyalty.reward_selectors import reward_order_status, reward_orders_of, rewards_on_offer
from forecourt.loyalty.selectors import member_tier
from forecourt.loyalty.services import points_state
from forecourt.offers import demo_data as offers_demo
from forecourt.offers.models import Campaign, Voucher, VoucherStatus
from forecourt.offers.tests.subsidy_fixtures import *  # noqa: F403  (the autouse `media` fixture)
from forecourt.orders import demo_data as orders_demo

pytestmark = pytest.mark.django_db

MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)


def test_demo_members_cover_every_tier_and_the_demo_consumer_every_kind_of_entry() -> None:
    rng = random.Random(7)
    with clock.frozen_at(MONDAY_10):
        for module in (dealers_demo, catalog_demo, accounts_demo, orders_demo, offers_demo, demo_data):
            module.seed(rng=rng)
        consumer = User.objects.get(phone_hash=phone_hash(normalise_mainland_mobile(DEMO_CONSUMER_PHONE)))
        member = Member.objects.get(user=consumer)
        state = points_state(member)
        tiers = {member_tier(user=other.user) for other in Member.objects.select_related("user")}
        consumer_tier = member_tier(user=consumer)
        orders = list(reward_orders_of(member))
        statuses = sorted(reward_order_status(order) for order in orders)
        on_offer = list(rewards_on_offer())
        # Seeding twice changes nothing.
        demo_data.seed(rng=rng)

    assert {rule.source for rule in EarnRule.objects.filter(is_active=True)} == set(EarnSource.values)
    assert set(TierRule.objects.values_list("tier", flat=True)) == set(Tier.values)
    assert set(TierBenefit.objects.values_list("tier", flat=True)) == set(Tier.values)
    assert TierBenefit.objects.filter(code="points_bonus").count() == 3
    assert 5 <= Reward.objects.count() <= 8 and len(on_offer) == Reward.objects.count()
    assert Reward.objects.filter(cash_fen__gt=0).exists()
    assert Reward.objects.filter(campaign__merchant__isnull=False).count() >= 5
    # Reward campaigns are switched off: nobody claims them at /offers/.
    assert not Campaign.objects.filter(pk__in=Reward.objects.values("campaign"), is_active=True).exists()
    assert tiers == set(Tier.values), tiers

    assert consumer_tier == Tier.GOLD
    kinds = set(PointsEntry.objects.filter(member=member).values_list("kind", flat=True))
    assert {EntryKind.EARN, EntryKind.REDEEM, EntryKind.REVERSAL} <= kinds
    assert state.spendable > 0 and state.pending > 0 and state.debt == 0
    # Last year's points lapse as the next year begins; this year's a year later.
    soonest, soonest_points = state.expiring()[0]
    assert soonest.astimezone(SHANGHAI) == datetime(MONDAY_10.year + 1, 1, 1, tzinfo=SHANGHAI)
    assert 0 < soonest_points < state.spendable
    assert statuses == sorted(
        [
            RewardOrderStatus.ISSUED,
            RewardOrderStatus.ISSUED,
            RewardOrderStatus.ISSUED,
            RewardOrderStatus.CANCELLED,
            RewardOrderStatus.AWAITING_PAYMENT,
        ]
    ), statuses
    vouchers = {
        voucher.status
        for voucher in Voucher.objects.filter(holder=consumer, campaign__in=Reward.objects.values("campaign"))
    }
    assert {VoucherStatus.REDEEMED, VoucherStatus.ACTIVE} <= vouchers
    # The ledger replays to what it sums to (nothing lapsed unwritten in the demo's window).
    assert state.entries_sum == state.balance
