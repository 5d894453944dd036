"""Who may do what with a lead: role predicates and the checks services make before they act.

A lead of another dealer is answered as "not found" (404), never "forbidden", so its existence does
not leak across tenants.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from forecourt.accounts.auth import is_ops as is_ops  # one definition, used here by name
from forecourt.accounts.models import Role
from forecourt.core.errors import CoreErrorCode, DomainError, NotFound
from forecourt.leads.errors import LeadErrorCode

# Service advisors work on after-sales; leads belong to the sales side of a dealer.
LEAD_STAFF_ROLES: frozenset[str] = frozenset({Role.SALES_ADVISOR, Role.DEALER_MANAGER})


def is_lead_staff(user: Any) -> bool:
    return (
        bool(getattr(user, "is_authenticated", False))
        and getattr(user, "role", None) in LEAD_STAFF_ROLES
        and getattr(user, "dealer_id", None) is not None
    )


def is_manager(user: Any) -> bool:
    return is_lead_staff(user) and user.role == Role.DEALER_MANAGER


def lead_not_found() -> NotFound:
    return NotFound(_("No such lead."))


def ensure_staff_of_lead_dealer(user: Any, lead: Any) -> None:
    """The user is sales staff of the dealer holding the lead; anything else is a 404."""
    if not is_lead_staff(user) or lead.dealer_id is None or user.dealer_id != lead.dealer_id:
        raise lead_not_found()


def ensure_works_the_lead(user: Any, lead: Any) -> None:
    """The user is the lead's advisor or a manager of its dealer."""
    ensure_staff_of_lead_dealer(user, lead)
    if is_manager(user):
        return
    if lead.advisor_id is None:
        raise DomainError(LeadErrorCode.NOT_CLAIMED, _("Claim the lead first."), status=409)
    if lead.advisor_id != user.pk:
        raise DomainError(LeadErrorCode.NOT_YOUR_LEAD, _("Another advisor follows up this lead."), status=403)


def ensure_manager_of_lead_dealer(user: Any, lead: Any) -> None:
    ensure_staff_of_lead_dealer(user, lead)
    if not is_manager(user):
        raise DomainError(
            LeadErrorCode.NOT_A_MANAGER, _("Only the dealer's manager may do this."), status=403
        )


def ensure_ops(user: Any) -> None:
    if not is_ops(user):
        raise DomainError(CoreErrorCode.FORBIDDEN, _("Only OEM operations may do this."), status=403)


def lead_may_reveal_phone(*, lead: Any, user: Any) -> bool:
    """The lead's own advisor, its dealer's manager and ops may unmask the number (each time audited)."""
    if is_ops(user):
        return True
    if lead.dealer_id is None or getattr(user, "dealer_id", None) != lead.dealer_id:
        return False
    return is_manager(user) or (lead.advisor_id is not None and lead.advisor_id == user.pk)
