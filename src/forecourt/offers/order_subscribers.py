"""Reacting to orders: the coupons on a delivered order are written off at its dealer.

Cancellation is deliberately NOT a subscriber: orders releases or voids the coupons inside the
cancellation's own transaction (`vouchers_release_for_order`), so no refund can leave with a coupon
still standing on the order.
"""

from __future__ import annotations

import logging

from forecourt.core.events import subscriber
from forecourt.core.models import Event
from forecourt.dealers.models import Dealer
from forecourt.offers.services.ordering import vouchers_redeem_for_order

logger = logging.getLogger(__name__)


@subscriber("order.delivered", name="offers.redeem_order_vouchers")
def on_order_delivered(event: Event) -> None:
    payload = event.payload or {}
    reference = str(payload.get("order") or event.subject_id)
    dealer = Dealer.objects.filter(public_id=str(payload.get("dealer", ""))).first()
    if dealer is None and event.dealer_id is not None:
        dealer = Dealer.objects.filter(pk=event.dealer_id).first()
    if dealer is None:
        logger.warning("order.delivered without a known dealer", extra={"order": reference})
        return
    vouchers_redeem_for_order(order_reference=reference, dealer=dealer)
