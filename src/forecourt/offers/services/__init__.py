"""The offers app's writes. Other apps, the API and the pages call these (and only these).

- claiming: `campaign_claim(*, campaign, holder, channel="web") -> Voucher`; `voucher_issue(...)` (inside
  a transaction, for issuers such as subsidy approval); `budget_give_back(...)`
- coupons on car orders (ordering.py, floors.py): `offers_quote(...) -> OfferQuote` (pure),
  `vouchers_apply_to_order(...)`, `vouchers_release_for_order(*, order_reference, reason)` (inside the
  cancellation's transaction), `vouchers_redeem_for_order(*, order_reference, dealer)`, `price_floor_for(...)`
- write-off (redemption.py): `redemption_record(*, voucher, staff, dealer=None, merchant=None,
  order_reference="", idempotency_key="") -> Redemption` (409 `already_redeemed`), `voucher_lookup(*, staff,
  text, ip=None) -> Voucher`, `voucher_redeem(*, staff, text, idempotency_key, ip=None, order_reference="")
  -> Redemption`, `redemption_reverse(*, redemption, actor, reason)` (ops only)
- subsidies (subsidies.py): `subsidy_programme_create(...)`, `subsidy_apply(...) -> SubsidyApplication`,
  `subsidy_decide(*, application, actor, approve, reason="")` (ops; 409 `pool_exhausted`/`already_decided`),
  `subsidy_withdraw(*, application, actor)`
- paid coupons (paid.py): `voucher_pay_start(*, voucher, provider, return_url, actor, channel="") ->
  PaymentStart`, `voucher_payment_credit(...)` (the payment.succeeded subscriber), `voucher_refund(*, voucher,
  actor) -> Voucher` (409 `not_refundable`)
- sweeping (sweeps.py): `offers_sweep() -> dict[str, int]`
"""

from forecourt.offers.services.claims import budget_give_back, campaign_claim, voucher_issue
from forecourt.offers.services.floors import price_floor_for
from forecourt.offers.services.ordering import (
    OfferQuote,
    offers_quote,
    vouchers_apply_to_order,
    vouchers_redeem_for_order,
    vouchers_release_for_order,
)
from forecourt.offers.services.paid import voucher_pay_start, voucher_payment_credit, voucher_refund
from forecourt.offers.services.redemption import (
    redemption_record,
    redemption_reverse,
    voucher_lookup,
    voucher_redeem,
)
from forecourt.offers.services.subsidies import (
    subsidy_apply,
    subsidy_decide,
    subsidy_programme_create,
    subsidy_withdraw,
)
from forecourt.offers.services.sweeps import offers_sweep

__all__ = [
    "OfferQuote",
    "budget_give_back",
    "campaign_claim",
    "offers_quote",
    "offers_sweep",
    "price_floor_for",
    "redemption_record",
    "redemption_reverse",
    "subsidy_apply",
    "subsidy_decide",
    "subsidy_programme_create",
    "subsidy_withdraw",
    "voucher_issue",
    "voucher_lookup",
    "voucher_pay_start",
    "voucher_payment_credit",
    "voucher_redeem",
    "voucher_refund",
    "vouchers_apply_to_order",
    "vouchers_redeem_for_order",
    "vouchers_release_for_order",
]
