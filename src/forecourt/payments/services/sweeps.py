"""The payments sweeper: ask gateways about trades whose notification is late, resubmit stuck refunds."""

from __future__ import annotations

from datetime import timedelta

from forecourt.core.clock import now
from forecourt.payments.models import LOCAL_PROVIDERS, NOTIFYING_PROVIDERS, IntentStatus, PaymentIntent
from forecourt.payments.services.notifications import payment_intent_query
from forecourt.payments.services.refunds import refunds_resubmit_pending

# A notification normally arrives within seconds; after this we ask. Older than a day, the gateway has
# closed the trade long ago and its own notification retries are over.
QUERY_AFTER = timedelta(minutes=2)
QUERY_UNTIL = timedelta(days=1)


def intents_query_late(*, limit: int = 100) -> int:
    """Query the gateway for unpaid gateway intents old enough that their notification seems lost."""
    moment = now()
    late = PaymentIntent.objects.filter(
        status=IntentStatus.CREATED,
        provider__in=sorted(NOTIFYING_PROVIDERS - LOCAL_PROVIDERS),
        created_at__lte=moment - QUERY_AFTER,
        created_at__gte=moment - QUERY_UNTIL,
    ).order_by("created_at")[:limit]
    count = 0
    for intent in late:
        payment_intent_query(intent=intent)
        count += 1
    return count


def payments_sweep() -> dict[str, int]:
    """One round of the payments sweeper; safe to run as often as wanted, from anywhere."""
    return {"queried": intents_query_late(), "refunds_resubmitted": refunds_resubmit_pending()}
