"""The offers app's error codes; services raise core DomainError/NotFound with one of these codes.

`budget_exhausted`, `limit_reached`, `not_eligible` and `already_redeemed` are published API contracts.
"""

from enum import StrEnum

from forecourt.core.errors import field_error as field_error  # the apps import it from here


class OfferErrorCode(StrEnum):
    BUDGET_EXHAUSTED = "budget_exhausted"
    LIMIT_REACHED = "limit_reached"
    NOT_ELIGIBLE = "not_eligible"
    ALREADY_REDEEMED = "already_redeemed"
    CAMPAIGN_NOT_RUNNING = "campaign_not_running"
    VOUCHER_NOT_USABLE = "voucher_not_usable"
    VOUCHER_EXPIRED = "voucher_expired"
    VOUCHER_VOID = "voucher_void"
    NOT_APPLIED = "not_applied"
    NOT_STACKABLE = "not_stackable"
    NOT_HOLDER = "not_holder"
    PAYMENT_REQUIRED = "payment_required"
    NOT_REFUNDABLE = "not_refundable"
    NOT_REDEEMED = "not_redeemed"
    INVALID_QR = "invalid_qr"
    POOL_EXHAUSTED = "pool_exhausted"
    PROGRAMME_CLOSED = "programme_closed"
    ALREADY_APPLIED = "already_applied"
    ALREADY_DECIDED = "already_decided"
    INVALID_DOCUMENT = "invalid_document"
    VOUCHER_NOT_FOUND = "not_found"
    FLOOR_REACHED = "floor_reached"
