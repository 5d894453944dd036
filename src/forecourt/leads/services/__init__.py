"""The leads app's writes. Other apps call these (and only these) to capture and move leads.

- `lead_capture(*, name, phone, city_code, model_code, channel, dealer_public_id=None, campaign="",
  source_site="", broker_code="", utm=None, landing_page="", share_with_dealer, consent_method="web",
  actor=None) -> (Lead, created)`
- `lead_transition(*, lead, to_status, actor=None, note="") -> Lead`
- claims, calls and follow-ups: `lead_claim`, `lead_assign`, `lead_phone_reveal`, `contact_attempt_log`,
  `lead_follow_up_schedule`
- defeats: `lead_defeat_request`, `defeat_review`, `lead_reopen`
- staff entries: `lead_staff_entry_record` (walk-in or phone call, claimed and contacted at once)
- consent: `leads_unshare_for_person` (consent to share withdrawn: open leads go to the OEM queue)
- the SLA: `lead_escalate`, `lead_reroute_if_due`, `lead_sla_sweep`
"""

from forecourt.leads.services.capture import lead_capture
from forecourt.leads.services.consent import leads_unshare_for_person
from forecourt.leads.services.defeats import defeat_review, lead_defeat_request, lead_reopen
from forecourt.leads.services.followup import (
    contact_attempt_log,
    lead_assign,
    lead_claim,
    lead_follow_up_schedule,
    lead_phone_reveal,
)
from forecourt.leads.services.sla import lead_escalate, lead_reroute_if_due, lead_sla_sweep
from forecourt.leads.services.staff_entry import lead_staff_entry_record
from forecourt.leads.services.transitions import lead_transition

__all__ = [
    "contact_attempt_log",
    "defeat_review",
    "lead_assign",
    "lead_capture",
    "lead_claim",
    "lead_defeat_request",
    "lead_escalate",
    "lead_follow_up_schedule",
    "lead_phone_reveal",
    "lead_reopen",
    "lead_reroute_if_due",
    "lead_sla_sweep",
    "lead_staff_entry_record",
    "lead_transition",
    "leads_unshare_for_person",
]
