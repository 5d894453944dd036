"""The offers app's writes. Other apps, the API and the pages call these (and only these).

- claiming: `campaign_claim(*, campaign, holder, channel="web") -> Voucher`; `voucher_issue(...)` (inside
  a transaction, for issuers such as subsidy approval); `budget_give_back(...)`
"""

from forecourt.offers.services.claims import budget_give_back, campaign_claim, voucher_issue

__all__ = [
    "budget_give_back",
    "campaign_claim",
    "voucher_issue",
]
