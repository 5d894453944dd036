"""Factories for offers tests: campaigns of each kind, a merchant with its staff, and a claimed voucher."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from forecourt.accounts.models import Role, User
from forecourt.accounts.tests.factories import make_user
from forecourt.core import clock
from forecourt.dealers.models import Dealer
from forecourt.dealers.tests.factories import DealerFactory, shanghai
from forecourt.offers.models import Campaign, CouponKind, Merchant, MerchantKind, MerchantStaff


def make_campaign(**fields: Any) -> Campaign:
    """A running cash-off campaign (¥2,000, 100 vouchers, one per person) unless `fields` say otherwise."""
    at: datetime = fields.pop("at", None) or clock.now()
    values: dict[str, Any] = {
        "name": "双11购车立减",
        "name_en": "Double 11 car discount",
        "kind": CouponKind.CASH_OFF,
        "starts_at": at - timedelta(days=1),
        "ends_at": at + timedelta(days=30),
        "valid_days": 60,
        "face_value_fen": 2_000_00,
        "budget_count": 100,
        "per_person_limit": 1,
    }
    values.update(fields)
    stackable = values.pop("stackable_with", None)
    campaign = Campaign.objects.create(**values)
    if stackable:
        campaign.stackable_with.set(stackable)
    return campaign


def make_consumer(**fields: Any) -> User:
    return make_user(role=Role.CONSUMER, **fields)


def make_staff(dealer: Dealer | None = None, role: str = Role.SALES_ADVISOR, **fields: Any) -> User:
    place = dealer if dealer is not None else DealerFactory.create(city=shanghai())
    return make_user(role=role, dealer=place, **fields)


def dealer_of(staff: User) -> Dealer:
    """The dealer a member of staff belongs to (always set for dealer roles)."""
    assert staff.dealer is not None
    return staff.dealer


def make_merchant(**fields: Any) -> Merchant:
    values: dict[str, Any] = {
        "name": "洁车坊·徐汇店",
        "name_en": "CleanCar Xuhui",
        "kind": MerchantKind.CAR_WASH,
    }
    values.update(fields)
    return Merchant.objects.create(**values)


def make_merchant_staff(merchant: Merchant | None = None, **fields: Any) -> User:
    user = make_user(role=Role.PARTNER, **fields)
    MerchantStaff.objects.create(user=user, merchant=merchant or make_merchant())
    return user
