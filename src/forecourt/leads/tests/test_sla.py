"""The follow-up SLA on a set clock: deadlines, states on read, escalation, re-routes, the OEM queue."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.core.management import call_command

from forecourt.accounts.models import OutboxMessage
from forecourt.core import clock
from forecourt.core.clock import SHANGHAI
from forecourt.core.models import Event
from forecourt.core.phones import protect_phone
from forecourt.leads.models import Lead, LeadStatus, RoutingDecision, SlaPolicy, SlaState
from forecourt.leads.services import contact_attempt_log, lead_claim, lead_sla_sweep
from forecourt.leads.tests.conftest import MONDAY_10, capture, lead_events

pytestmark = pytest.mark.django_db


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


def test_a_lead_routed_at_ten_is_due_at_twelve_and_rerouted_at_two(routed_lead):
    assert routed_lead.sla_deadline == at(23, 12)
    assert routed_lead.reroute_at == at(23, 14)


def test_a_lead_routed_at_half_past_eight_in_the_evening_is_due_at_ten_the_next_morning(model, dealer):
    with clock.frozen_at(at(23, 20, 30)):
        lead, _ = capture()

    assert lead.sla_deadline == at(24, 10)
    assert lead.reroute_at == at(24, 12)


def test_weekends_do_not_count_when_the_policy_says_so(model, dealer):
    SlaPolicy.objects.create(working_weekdays=[0, 1, 2, 3, 4])
    with clock.frozen_at(at(28, 11)):  # Saturday
        lead, _ = capture()

    assert lead.sla_deadline == at(30, 10, 30)


def test_a_shorter_policy_and_later_hours_apply_to_new_leads_only(model, dealer, frozen):
    first, _ = capture()
    SlaPolicy.objects.create(
        first_contact_business_minutes=60, business_day_start=time(9), business_day_end=time(18)
    )
    second, _ = capture(phone="13912345678")

    first.refresh_from_db()
    assert first.sla_deadline == at(23, 12)
    assert second.sla_deadline == at(23, 11)
    assert second.reroute_at == at(23, 12)


def test_the_state_is_evaluated_when_read(routed_lead):
    lead = routed_lead
    assert lead.sla_state(at(23, 10)) == SlaState.ON_TIME
    assert lead.sla_state(at(23, 11, 30)) == SlaState.DUE_SOON
    assert lead.sla_state(at(23, 12)) == SlaState.ESCALATION_DUE
    lead.escalated_at = at(23, 12, 1)
    assert lead.sla_state(at(23, 13)) == SlaState.OVERDUE
    assert lead.sla_state(at(23, 14)) == SlaState.REROUTE_DUE
    lead.first_contacted_at = at(23, 14, 5)
    assert lead.sla_state(at(23, 15)) == SlaState.MET


def test_a_queued_lead_has_no_clock(frozen, model, dealer):
    lead, _ = capture(share_with_dealer=False)

    assert lead.sla_state(at(30, 10)) == SlaState.NOT_RUNNING


def test_the_sweeper_does_nothing_before_the_deadline(routed_lead):
    with clock.frozen_at(at(23, 11, 59)):
        assert lead_sla_sweep() == {"escalated": 0, "rerouted": 0, "sent_to_oem_queue": 0}
    assert lead_events(routed_lead) == ["lead.created", "lead.routed"]


def test_at_the_deadline_the_manager_is_told_once(routed_lead, manager, dealer):
    _e164, digest, encrypted = protect_phone("13700001111")
    manager.phone_hash, manager.phone_encrypted = digest, encrypted
    manager.save()

    with clock.frozen_at(at(23, 12)):
        first = lead_sla_sweep()
        second = lead_sla_sweep()

    assert first == {"escalated": 1, "rerouted": 0, "sent_to_oem_queue": 0}
    assert second == {"escalated": 0, "rerouted": 0, "sent_to_oem_queue": 0}
    routed_lead.refresh_from_db()
    assert routed_lead.escalated_at == at(23, 12)
    assert routed_lead.dealer == dealer
    event = Event.objects.get(name="lead.escalated")
    assert event.dealer_id == dealer.pk
    assert event.payload["lead_id"] == routed_lead.public_id
    assert routed_lead.sla_state(at(23, 12, 30)) == SlaState.OVERDUE


def test_the_escalation_text_goes_out_after_commit(routed_lead, manager, django_capture_on_commit_callbacks):
    _e164, digest, encrypted = protect_phone("13700001111")
    manager.phone_hash, manager.phone_encrypted = digest, encrypted
    manager.save()

    with clock.frozen_at(at(23, 12)), django_capture_on_commit_callbacks(execute=True):
        lead_sla_sweep()

    message = OutboxMessage.objects.get(purpose="lead_escalation")
    assert message.phone_masked == "137****1111"
    assert routed_lead.public_id in message.text


def test_reroutes_twice_then_the_oem_queue(routed_lead, advisor, dealer, second_dealer, third_dealer):
    lead = lead_claim(lead=routed_lead, actor=advisor)  # claimed, but nobody calls

    with clock.frozen_at(at(23, 14)):
        assert lead_sla_sweep() == {"escalated": 1, "rerouted": 1, "sent_to_oem_queue": 0}
        assert lead_sla_sweep() == {"escalated": 0, "rerouted": 0, "sent_to_oem_queue": 0}
    lead.refresh_from_db()
    assert (lead.dealer, lead.status, lead.advisor, lead.reroute_count) == (second_dealer, "new", None, 1)
    assert (lead.sla_deadline, lead.reroute_at, lead.escalated_at) == (at(23, 16), at(23, 18), None)

    with clock.frozen_at(at(23, 18)):
        assert lead_sla_sweep() == {"escalated": 1, "rerouted": 1, "sent_to_oem_queue": 0}
    lead.refresh_from_db()
    assert (lead.dealer, lead.reroute_count) == (third_dealer, 2)
    assert lead.reroute_at == at(24, 9, 30)

    with clock.frozen_at(at(24, 9, 30)):
        assert lead_sla_sweep() == {"escalated": 1, "rerouted": 0, "sent_to_oem_queue": 1}
        assert lead_sla_sweep() == {"escalated": 0, "rerouted": 0, "sent_to_oem_queue": 0}
    lead.refresh_from_db()
    assert (lead.status, lead.dealer, lead.oem_queue_reason) == ("oem_queue", None, "sla_exhausted")
    kinds = list(
        RoutingDecision.objects.filter(lead=lead).order_by("decided_at").values_list("kind", "reason_code")
    )
    assert kinds == [
        ("initial", "city_nearest_balanced"),
        ("reroute", "sla_lapsed"),
        ("reroute", "sla_lapsed"),
        ("oem_queue", "sla_exhausted"),
    ]
    assert lead_events(lead).count("lead.rerouted") == 2
    assert lead_events(lead).count("lead.escalated") == 3
    assert lead_events(lead).count("lead.sent_to_oem_queue") == 1
    rerouted = Event.objects.filter(name="lead.rerouted").order_by("occurred_at")
    assert [(e.dealer_id, e.payload["from_dealer"]) for e in rerouted] == [
        (second_dealer.pk, dealer.public_id),
        (third_dealer.pk, second_dealer.public_id),
    ]


def test_with_no_other_dealer_a_lapsed_lead_goes_to_the_oem_queue(routed_lead):
    with clock.frozen_at(at(23, 14)):
        assert lead_sla_sweep() == {"escalated": 1, "rerouted": 0, "sent_to_oem_queue": 1}
    routed_lead.refresh_from_db()
    assert routed_lead.status == LeadStatus.OEM_QUEUE
    assert routed_lead.oem_queue_reason == "no_dealer"


def test_a_contacted_lead_is_never_escalated_or_rerouted(claimed_lead, advisor, second_dealer):
    with clock.frozen_at(at(23, 11)):
        contact_attempt_log(lead=claimed_lead, actor=advisor, outcome="no_answer")
    with clock.frozen_at(at(25, 10)):
        assert lead_sla_sweep() == {"escalated": 0, "rerouted": 0, "sent_to_oem_queue": 0}
    claimed_lead.refresh_from_db()
    assert claimed_lead.dealer_id != second_dealer.pk
    assert claimed_lead.contacted_within_sla() is True


def test_a_late_sweeper_still_acts_on_everything_that_is_due(routed_lead, second_dealer):
    with clock.frozen_at(at(24, 15)):
        assert lead_sla_sweep() == {"escalated": 1, "rerouted": 1, "sent_to_oem_queue": 0}
    routed_lead.refresh_from_db()
    assert routed_lead.dealer == second_dealer
    # The new dealer's clock starts when the lead reaches it, not when it should have.
    assert routed_lead.sla_deadline == at(24, 17)


def test_the_management_command_runs_the_sweeper(routed_lead, capsys):
    with clock.frozen_at(at(23, 12, 30)):
        call_command("leads_sweep")

    assert "escalated=1 rerouted=0 sent_to_oem_queue=0" in capsys.readouterr().out
    assert Lead.objects.get(pk=routed_lead.pk).escalated_at == at(23, 12, 30)


def test_the_default_policy_matches_the_issue(db):
    policy = SlaPolicy()
    assert policy.first_contact_business_minutes == 120
    assert (policy.business_day_start, policy.business_day_end) == (time(8, 30), time(21))
    assert policy.working_weekdays == [0, 1, 2, 3, 4, 5, 6]
    assert policy.timezone == "Asia/Shanghai"
    assert policy.max_reroutes == 2
    assert MONDAY_10 + timedelta(0) == at(23, 10)
