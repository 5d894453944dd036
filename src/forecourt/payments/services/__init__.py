"""Writes of the payments app. Other apps use only what is exported here (and the selectors)."""

from forecourt.payments.providers.base import PaymentStart, RefundResult
from forecourt.payments.services.intents import (
    payment_intent_close,
    payment_intent_create,
    payment_offline_record,
    payment_start,
    return_url_on_site,
)
from forecourt.payments.services.notifications import (
    NotificationOutcome,
    payment_intent_query,
    payment_notification_receive,
)
from forecourt.payments.services.refunds import (
    payment_refund,
    payment_refund_settle,
    payment_refund_submit,
)
from forecourt.payments.services.sandbox import payment_sandbox_choose
from forecourt.payments.services.sweeps import payments_sweep

__all__ = [
    "NotificationOutcome",
    "PaymentStart",
    "RefundResult",
    "payment_intent_close",
    "payment_intent_create",
    "payment_intent_query",
    "payment_notification_receive",
    "payment_offline_record",
    "payment_refund",
    "payment_refund_settle",
    "payment_refund_submit",
    "payment_sandbox_choose",
    "payment_start",
    "payments_sweep",
    "return_url_on_site",
]
