"""Where a staff member writes off vouchers: their dealer (dealer roles) or their partner merchant.

Write-off is counter work: dealer staff act for `user.dealer`, a partner account with a MerchantStaff
row for its merchant. Anyone else has no place; the API answers 403 and the pages send them away.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from forecourt.accounts.auth import is_ops as is_ops  # one definition, used here by name
from forecourt.accounts.models import DEALER_ROLES, Role
from forecourt.core.errors import CoreErrorCode, DomainError
from forecourt.dealers.models import Dealer
from forecourt.offers.models import Merchant, MerchantStaff


@dataclass(frozen=True)
class Place:
    """A dealer or a merchant: exactly one is set."""

    dealer: Dealer | None = None
    merchant: Merchant | None = None

    @property
    def name(self) -> str:
        if self.dealer is not None:
            return self.dealer.name
        assert self.merchant is not None
        return self.merchant.display_name

    @property
    def key(self) -> str:
        """A stable key for rate limits and idempotency scopes."""
        if self.dealer is not None:
            return f"dealer:{self.dealer.pk}"
        assert self.merchant is not None
        return f"merchant:{self.merchant.pk}"


def staff_place_or_none(user: Any) -> Place | None:
    """The place this user writes off for, or None if they are not counter staff."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return None
    role = getattr(user, "role", None)
    if role in DEALER_ROLES and getattr(user, "dealer_id", None) is not None:
        dealer = user.dealer
        return Place(dealer=dealer) if dealer.is_active else None
    if role == Role.PARTNER:
        staff = MerchantStaff.objects.select_related("merchant").filter(user=user).first()
        if staff is not None and staff.merchant.is_active:
            return Place(merchant=staff.merchant)
    return None


def staff_place(user: Any) -> Place:
    """The place this user writes off for; 403 for anyone who is not dealer or merchant staff."""
    place = staff_place_or_none(user)
    if place is None:
        raise DomainError(
            CoreErrorCode.FORBIDDEN,
            _("Only dealer staff and partner merchant staff may write off vouchers."),
            status=403,
        )
    return place


def ensure_ops(user: Any) -> None:
    if not is_ops(user):
        raise DomainError(CoreErrorCode.FORBIDDEN, _("Only OEM operations may do this."), status=403)
