"""The orders app's writes. Other apps, the API and the pages call these (and only these).

- placing and changing: `order_place(*, buyer, configuration=None, edition=None, city=None, dealer=None,
  lock_deadline=None) -> Order`, `order_change_configuration(*, order, configuration, actor) -> Order`
- coupons: `order_offers_apply(*, order, codes, actor) -> Order` (before the lock),
  `order_offers_quote(*, order, codes, trim=None, vehicle_price_fen=None) -> OfferQuote` (a preview);
  placement takes `voucher_codes`, a configuration change re-quotes them, cancellation releases them
- the one status change: `order_transition(*, order, to_status, actor=None, reason="", cancel_reason="",
  **payload) -> Order`
- money: `order_pay_start(*, order, stage, provider, channel="", return_url, actor) -> PaymentStart`,
  `order_payment_credit(*, intent, purpose, reference, amount_fen, currency="CNY", provider="")`,
  `order_refund_apply(*, refund, intent, amount_fen)`,
  `order_final_payment_confirm(*, order, actor, receipt_number) -> Order`
- the lock: `order_lock(*, order, actor) -> Order`, `orders_auto_lock() -> int`
- cars: `vehicle_add(*, vin, trim, option_codes, dealer=None) -> Vehicle`,
  `order_allocate_vehicle(*, order, vehicle, actor) -> Order`
- delivery: `order_delivery_book(*, order, delivery_at, actor) -> Order`,
  `order_delivery_confirm(*, order, actor) -> Order`, `order_late_days_accrue(*, order) -> int`
- cancelling: `order_cancel(*, order, actor, reason="buyer", note="") -> Order`, `refund_due_on_cancel(order)`
- limited editions: `hold_take`, `hold_confirm`, `hold_renew`, `hold_release`, `holds_expire`
- the sweeper: `orders_sweep() -> dict[str, int]`
"""

from forecourt.orders.services.allocation import normalise_vin, order_allocate_vehicle, vehicle_add
from forecourt.orders.services.cancellation import order_cancel, refund_due_on_cancel
from forecourt.orders.services.delivery import (
    order_delivery_book,
    order_delivery_confirm,
    order_late_days_accrue,
    orders_late_days_sweep,
)
from forecourt.orders.services.holds import hold_confirm, hold_release, hold_renew, hold_take, holds_expire
from forecourt.orders.services.lifecycle import order_lock, orders_auto_lock
from forecourt.orders.services.offers import order_offers_apply, order_offers_quote
from forecourt.orders.services.payments import (
    order_final_payment_confirm,
    order_pay_start,
    order_payment_credit,
    order_refund_apply,
)
from forecourt.orders.services.placement import order_change_configuration, order_place
from forecourt.orders.services.sweeps import orders_sweep, orders_unpaid_editions_cancel
from forecourt.orders.services.transitions import order_transition

__all__ = [
    "hold_confirm",
    "hold_release",
    "hold_renew",
    "hold_take",
    "holds_expire",
    "normalise_vin",
    "order_allocate_vehicle",
    "order_cancel",
    "order_change_configuration",
    "order_delivery_book",
    "order_delivery_confirm",
    "order_final_payment_confirm",
    "order_late_days_accrue",
    "order_lock",
    "order_offers_apply",
    "order_offers_quote",
    "order_pay_start",
    "order_payment_credit",
    "order_place",
    "order_refund_apply",
    "order_transition",
    "orders_auto_lock",
    "orders_late_days_sweep",
    "orders_sweep",
    "orders_unpaid_editions_cancel",
    "refund_due_on_cancel",
    "vehicle_add",
]
