"""Shared cast for the ordering tests: the orders test catalogue and people (re-exported from the orders
tests' conftest, autouse fixtures included) and helpers to claim coupons for them."""

from __future__ import annotations

from typing import Any

from forecourt.accounts.models import User
from forecourt.offers.models import Campaign, Voucher
from forecourt.offers.services import campaign_claim
from forecourt.offers.tests.factories import make_campaign
from forecourt.orders.tests.conftest import (  # noqa: F401  (fixtures used by name)
    DEPOSIT,
    INTENTION,
    MONDAY_10,
    STD_CHOICES,
    STD_TOTAL,
    _english_messages,
    _fresh_caches,
    _order_amounts,
    advisor,
    buyer,
    catalogue,
    city,
    committed,
    configuration,
    consumer,
    dealer,
    deposit_paid,
    fresh,
    frozen,
    other_buyer,
    other_city,
    other_dealer,
    pay,
    place,
)

# aurora-std with the heat pump: ¥232,900; the default floor (85 %) is ¥197,965.
DEFAULT_FLOOR = 197_965_00


def coupon(holder: User, campaign: Campaign | None = None, **campaign_fields: Any) -> Voucher:
    """Claim one voucher for `holder` from `campaign` (else a new campaign built from the fields)."""
    return campaign_claim(campaign=campaign or make_campaign(**campaign_fields), holder=holder)


def status_of(voucher: Voucher) -> str:
    return Voucher.objects.get(pk=voucher.pk).status
