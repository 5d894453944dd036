"""Identifying a member at the counter: dealer staff scan the member card (or type its number).

Every lookup is counted against rate limits (per staff member and per address) before the code is judged,
so typing card numbers one after another to find members is stopped, and each successful lookup is
written to the audit trail (who looked up whom, at which dealer).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from forecourt.core.audit import audit_record
from forecourt.core.errors import CoreErrorCode, DomainError, NotFound
from forecourt.core.ratelimit import rate_limits_hit
from forecourt.loyalty.card import card_member
from forecourt.loyalty.models import Member
from forecourt.loyalty.selectors import member_is_eligible
from forecourt.offers.access import is_ops

LOOKUP_WINDOW_SECONDS = 600
LOOKUPS_PER_STAFF = 60
LOOKUPS_PER_IP = 120


def may_look_up_members(user: Any) -> bool:
    """Dealer staff at a dealer, and OEM operations."""
    if not getattr(user, "is_authenticated", False):
        return False
    if is_ops(user):
        return True
    return bool(getattr(user, "is_dealer_staff", False)) and getattr(user, "dealer_id", None) is not None


def member_card_lookup(*, staff: Any, text: str, ip: str = "") -> Member:
    """The member a scanned card code or typed card number names (404 alike for unknown and not a member)."""
    if not may_look_up_members(staff):
        raise DomainError(
            CoreErrorCode.FORBIDDEN, _("Only dealer staff may look up member cards."), status=403
        )
    hits = [("loyalty-card-staff", str(staff.pk), LOOKUPS_PER_STAFF)]
    if ip:
        hits.append(("loyalty-card-ip", ip, LOOKUPS_PER_IP))
    rate_limits_hit(hits, window_seconds=LOOKUP_WINDOW_SECONDS)
    member = card_member(text)
    if not member_is_eligible(member.user):
        raise NotFound(_("No member has this card number."))
    audit_record(
        actor=staff,
        action="loyalty.member_card_looked_up",
        object_type="member",
        object_id=member.number,
        details={"dealer": getattr(getattr(staff, "dealer", None), "public_id", None)},
        ip_address=ip or None,
    )
    return member
