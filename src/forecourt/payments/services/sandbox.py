"""The sandbox gateway's side of its payment page: the payer's choice becomes a signed notification."""

from __future__ import annotations

from django.utils.translation import gettext as _

from forecourt.core.clock import now
from forecourt.core.errors import DomainError
from forecourt.core.identifiers import random_code
from forecourt.payments.errors import PaymentErrorCode
from forecourt.payments.models import IntentStatus, PaymentIntent, Provider
from forecourt.payments.services.inputs import invalid

# The payer's choice on the page → what the notification says, and why.
SANDBOX_CHOICES: dict[str, tuple[str, str]] = {
    "pay": ("succeeded", ""),
    "fail": ("failed", "payer_declined"),
    "cancel": ("closed", "cancelled"),
}


def payment_sandbox_choose(*, intent: PaymentIntent, choice: str) -> None:
    """Send the sandbox notification for the payer's choice (pay / fail / cancel), asynchronously."""
    from forecourt.payments.tasks import sandbox_notification_send

    if choice not in SANDBOX_CHOICES:
        raise invalid("action", _("Choose pay, fail or cancel."))
    if intent.provider != Provider.SANDBOX:
        raise invalid("provider", _("This is not a sandbox payment."))
    if intent.status != IntentStatus.CREATED:
        raise DomainError(PaymentErrorCode.NOT_PAYABLE, _("This payment is already settled."), status=409)
    if choice == "pay" and intent.expires_at <= now():
        raise DomainError(
            PaymentErrorCode.NOT_PAYABLE, _("This payment has expired. Start the payment again."), status=409
        )
    status, reason = SANDBOX_CHOICES[choice]
    sandbox_notification_send.enqueue(
        # One id per trade and choice, as a gateway keeps one id across its retries: pressing "pay"
        # twice sends the same notification twice, and the second is a duplicate.
        notification_id=f"SBN{intent.out_trade_no}{choice.upper()}",
        out_trade_no=intent.out_trade_no,
        trade_no=f"SBX{random_code(24)}",
        amount_fen=intent.amount_fen,
        status=status,
        reason=reason,
    )
