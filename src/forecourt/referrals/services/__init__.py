"""The referrals app's writes. Other apps, the API, the pages and commands call these (and only these).

- brokers (brokers.py): `broker_enrol(*, user, actor=None, kind="owner", city=None) -> Broker` (403
  `not_eligible`), `broker_device_seen(*, broker, device, at=None)`
- attribution (attribution.py): `referral_click_record(*, broker, device, ip, landing, at=None)`,
  `referral_attribute(*, lead_public_id, person_public_id, broker_code, clicked_at, at, ...)`
  -> Referral | None
- stages (stages.py): `referral_qualify`, `referral_order`, `referral_deliver`, `referral_lose`,
  `referrals_convert_due(*, at=None) -> int`
- commissions (commissions.py): `commission_record(*, referral, kind, amount_fen, available_at,
  idempotency_key, task=None, actor=None) -> (Commission, created)`, `commission_transition(*, commission,
  to_status, actor=None, note="", reason="")`, `commission_claw_back(*, commission, reason, actor=None)` (a
  task's money goes back to its budget there), `commission_decide(*, commission, actor, approve, note="")`,
  `commissions_mature() -> int`
- tasks (tasks.py, programme): `task_create(*, actor, title, goal, amount_fen, budget_fen, starts_at, ends_at,
  kind=None, model_code="", city=None, description="", target_count=0, publish=True) -> Task`,
  `task_publish(*, task, actor)`, `task_close(*, task, actor)`, `task_accept(*, task, broker) ->
  (TaskAcceptance, created)`, `task_results_record(*, result: TaskResult, actor=None) -> list[Commission]`,
  `task_budget_settle(*, task) -> int`, `tasks_close_ended(*, at=None) -> int`
- honours (honours.py, programme): `badges_award(*, broker, at=None) -> list[BrokerBadge]`,
  `leaderboard_month_close(*, month, at=None) -> list[BrokerBadge]`,
  `leaderboards_close_due(*, at=None) -> int` (sweeper: last month's city champions)
- statements (statements.py, programme): `statement_issue(*, broker, month, actor=None) -> Statement`
  (month: a date in it or "YYYY-MM"; issuing again returns the same statement), `statements_issue_for_month(*,
  month, actor) -> list[Statement]`, `payout_record(*, statement, reference, actor) -> Payout`
"""

from forecourt.referrals.services.attribution import referral_attribute, referral_click_record
from forecourt.referrals.services.brokers import broker_device_seen, broker_enrol
from forecourt.referrals.services.commissions import (
    commission_claw_back,
    commission_decide,
    commission_record,
    commission_transition,
    commissions_mature,
)
from forecourt.referrals.services.honours import (
    badges_award,
    leaderboard_month_close,
    leaderboards_close_due,
)
from forecourt.referrals.services.stages import (
    referral_deliver,
    referral_lose,
    referral_order,
    referral_qualify,
    referrals_convert_due,
)
from forecourt.referrals.services.statements import (
    payout_record,
    statement_issue,
    statements_issue_for_month,
)
from forecourt.referrals.services.tasks import (
    TaskResult,
    task_accept,
    task_budget_settle,
    task_close,
    task_create,
    task_publish,
    task_results_record,
    tasks_close_ended,
)

__all__ = [
    "TaskResult",
    "badges_award",
    "broker_device_seen",
    "broker_enrol",
    "commission_claw_back",
    "commission_decide",
    "commission_record",
    "commission_transition",
    "commissions_mature",
    "leaderboard_month_close",
    "leaderboards_close_due",
    "payout_record",
    "referral_attribute",
    "referral_click_record",
    "referral_deliver",
    "referral_lose",
    "referral_order",
    "referral_qualify",
    "referrals_convert_due",
    "statement_issue",
    "statements_issue_for_month",
    "task_accept",
    "task_budget_settle",
    "task_close",
    "task_create",
    "task_publish",
    "task_results_record",
    "tasks_close_ended",
]
