"""Error codes of the payments app (the API maps a DomainError with one of these to a response)."""

from enum import StrEnum


class PaymentErrorCode(StrEnum):
    PROVIDER_UNKNOWN = "payment_provider_unknown"
    PROVIDER_UNAVAILABLE = "payment_provider_unavailable"
    NOT_PAYABLE = "payment_not_payable"
    ALREADY_SUCCEEDED = "payment_already_succeeded"
    NOT_REFUNDABLE = "payment_not_refundable"
    REFUND_EXCEEDS_PAID = "refund_exceeds_paid"
    RECEIPT_ALREADY_RECORDED = "receipt_already_recorded"
