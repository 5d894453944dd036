"""The pipeline: claim, assign, calls, follow-ups, the transition table (Hypothesis), defeats, reopen."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecourt.core import clock
from forecourt.core.errors import DomainError
from forecourt.core.models import AuditEntry, Event
from forecourt.leads.models import (
    ALLOWED_TRANSITIONS,
    ContactAttempt,
    DefeatReview,
    Lead,
    LeadReopening,
    LeadStatus,
)
from forecourt.leads.services import (
    contact_attempt_log,
    defeat_review,
    lead_assign,
    lead_claim,
    lead_defeat_request,
    lead_follow_up_schedule,
    lead_phone_reveal,
    lead_reopen,
    lead_transition,
)
from forecourt.leads.tests.conftest import MONDAY_10, capture, lead_events

pytestmark = pytest.mark.django_db
EVIDENCE = "Called three times on Monday and Tuesday; she bought a competitor's SUV last week."


def test_claiming_assigns_the_lead_to_the_advisor(routed_lead, advisor):
    lead = lead_claim(lead=routed_lead, actor=advisor)

    assert (lead.status, lead.advisor, lead.claimed_at) == ("assigned", advisor, MONDAY_10)
    assert lead_events(lead) == ["lead.claimed", "lead.created", "lead.routed", "lead.status_changed"]


def test_claiming_twice_by_the_same_advisor_changes_nothing(claimed_lead, advisor):
    before = Event.objects.count()
    lead = lead_claim(lead=claimed_lead, actor=advisor)

    assert lead.advisor == advisor
    assert Event.objects.count() == before


def test_a_claimed_lead_cannot_be_claimed_by_another_advisor(claimed_lead, second_advisor, advisor):
    with pytest.raises(DomainError) as caught:
        lead_claim(lead=claimed_lead, actor=second_advisor)

    assert (caught.value.code, caught.value.status) == ("already_claimed", 409)
    assert Lead.objects.get(pk=claimed_lead.pk).advisor == advisor


def test_the_manager_assigns_and_reassigns_within_the_dealer(routed_lead, manager, advisor, second_advisor):
    lead = lead_assign(lead=routed_lead, advisor=advisor, actor=manager)
    assert (lead.status, lead.advisor) == ("assigned", advisor)
    lead = lead_assign(lead=lead, advisor=second_advisor, actor=manager)

    assert lead.advisor == second_advisor
    event = Event.objects.filter(name="lead.assigned").order_by("occurred_at", "payload").last()
    assert event is not None
    assigned = Event.objects.filter(name="lead.assigned")
    assert {e.payload["advisor"] for e in assigned} == {advisor.public_id, second_advisor.public_id}


def test_an_advisor_may_not_assign(routed_lead, advisor, second_advisor):
    with pytest.raises(DomainError) as caught:
        lead_assign(lead=routed_lead, advisor=second_advisor, actor=advisor)

    assert (caught.value.code, caught.value.status) == ("not_a_manager", 403)
    assert Lead.objects.get(pk=routed_lead.pk).advisor is None


def test_the_manager_cannot_assign_to_another_dealers_advisor(routed_lead, manager, other_advisor):
    with pytest.raises(DomainError) as caught:
        lead_assign(lead=routed_lead, advisor=other_advisor, actor=manager)

    assert (caught.value.code, caught.value.status) == ("advisor_not_at_dealer", 422)
    assert caught.value.details == [{"field": "advisor", "message": "Choose a sales advisor of this dealer."}]
    assert Event.objects.filter(name="lead.assigned").count() == 0


def test_the_phone_is_masked_until_claimed_and_each_unmasking_is_audited(routed_lead, advisor, manager):
    assert routed_lead.person.masked_phone == "138****8000"
    with pytest.raises(DomainError) as caught:
        lead_phone_reveal(lead=routed_lead, actor=advisor)
    assert (caught.value.code, caught.value.status) == ("not_claimed", 403)
    assert AuditEntry.objects.filter(action="lead.phone_unmasked").count() == 0

    lead = lead_claim(lead=routed_lead, actor=advisor)
    assert lead_phone_reveal(lead=lead, actor=advisor) == "+8613800138000"
    assert lead_phone_reveal(lead=lead, actor=manager) == "+8613800138000"

    entries = AuditEntry.objects.filter(action="lead.phone_unmasked").order_by("id")
    assert [(e.actor, e.object_type, e.object_id) for e in entries] == [
        (advisor, "lead", lead.public_id),
        (manager, "lead", lead.public_id),
    ]
    assert Event.objects.filter(name="lead.phone_unmasked", subject_id=lead.public_id).count() == 2
    assert all("13800138000" not in str(e.details) for e in entries)


def test_another_advisor_of_the_dealer_cannot_unmask_a_claimed_lead(claimed_lead, second_advisor):
    with pytest.raises(DomainError):
        lead_phone_reveal(lead=claimed_lead, actor=second_advisor)

    assert AuditEntry.objects.filter(action="lead.phone_unmasked").count() == 0


def test_ops_may_unmask_and_are_audited(routed_lead, ops):
    assert lead_phone_reveal(lead=routed_lead, actor=ops) == "+8613800138000"
    assert AuditEntry.objects.get(action="lead.phone_unmasked").actor == ops


def test_a_call_must_come_after_the_claim(routed_lead, advisor):
    with pytest.raises(DomainError) as caught:
        contact_attempt_log(lead=routed_lead, actor=advisor, outcome="reached")

    assert caught.value.code == "not_claimed"
    assert ContactAttempt.objects.count() == 0


def test_a_first_call_stops_the_clock_and_a_conversation_marks_contact(claimed_lead, advisor):
    clock.advance(timedelta(minutes=45))
    contact_attempt_log(lead=claimed_lead, actor=advisor, outcome="no_answer", note="关机")
    lead = Lead.objects.get(pk=claimed_lead.pk)
    assert (lead.status, lead.first_contacted_at) == ("assigned", MONDAY_10 + timedelta(minutes=45))

    clock.advance(timedelta(minutes=30))
    attempt = contact_attempt_log(lead=lead, actor=advisor, outcome="reached", note="约周六到店")
    lead.refresh_from_db()
    assert lead.status == "contacted"
    assert lead.first_contacted_at == MONDAY_10 + timedelta(minutes=45)
    assert lead.contacted_within_sla() is True
    assert (attempt.outcome, attempt.note, attempt.dealer_id, attempt.staff) == (
        "reached",
        "约周六到店",
        lead.dealer_id,
        advisor,
    )
    assert lead_events(lead).count("lead.contacted") == 1
    assert lead_events(lead).count("lead.contact_attempt_logged") == 2


def test_an_unknown_outcome_is_refused(claimed_lead, advisor):
    with pytest.raises(DomainError) as caught:
        contact_attempt_log(lead=claimed_lead, actor=advisor, outcome="telepathy")

    assert caught.value.details[0]["field"] == "outcome"
    assert ContactAttempt.objects.count() == 0


def test_the_follow_up_must_be_in_the_future(claimed_lead, advisor):
    with pytest.raises(DomainError) as caught:
        lead_follow_up_schedule(lead=claimed_lead, actor=advisor, at=MONDAY_10 - timedelta(hours=1))
    assert caught.value.code == "follow_up_in_past"

    lead = lead_follow_up_schedule(lead=claimed_lead, actor=advisor, at=MONDAY_10 + timedelta(days=2))
    assert lead.next_follow_up_at == MONDAY_10 + timedelta(days=2)


def test_pipeline_buttons_move_forward_only(claimed_lead, advisor):
    contact_attempt_log(lead=claimed_lead, actor=advisor, outcome="reached")
    lead = lead_transition(lead=claimed_lead, to_status="visit_booked", actor=advisor)
    lead = lead_transition(lead=lead, to_status="visited", actor=advisor)
    assert (lead.status, lead.visit_booked_at, lead.visited_at) == ("visited", MONDAY_10, MONDAY_10)

    with pytest.raises(DomainError) as caught:
        lead_transition(lead=lead, to_status="visit_booked", actor=advisor)
    assert (caught.value.code, caught.value.status) == ("transition_not_allowed", 409)


def test_staff_cannot_defeat_or_requeue_through_the_pipeline_buttons(claimed_lead, advisor):
    contact_attempt_log(lead=claimed_lead, actor=advisor, outcome="reached")
    for target in ("defeated", "oem_queue", "new"):
        with pytest.raises(DomainError):
            lead_transition(lead=claimed_lead, to_status=target, actor=advisor)

    assert Lead.objects.get(pk=claimed_lead.pk).status == "contacted"


def test_defeat_needs_a_logged_contact_attempt(claimed_lead, advisor):
    with pytest.raises(DomainError) as caught:
        lead_defeat_request(lead=claimed_lead, actor=advisor, reason="unreachable", evidence=EVIDENCE)

    assert caught.value.code == "no_contact_attempt"
    assert DefeatReview.objects.count() == 0


def test_defeat_needs_a_reason_from_the_list_and_evidence(claimed_lead, advisor):
    contact_attempt_log(lead=claimed_lead, actor=advisor, outcome="no_answer")
    with pytest.raises(DomainError) as caught:
        lead_defeat_request(lead=claimed_lead, actor=advisor, reason="felt_like_it", evidence=EVIDENCE)
    assert caught.value.details[0]["field"] == "reason"
    with pytest.raises(DomainError) as caught:
        lead_defeat_request(lead=claimed_lead, actor=advisor, reason="unreachable", evidence="no")
    assert caught.value.details[0]["field"] == "evidence"
    assert DefeatReview.objects.count() == 0


def test_the_manager_approves_a_defeat(claimed_lead, advisor, manager):
    contact_attempt_log(lead=claimed_lead, actor=advisor, outcome="no_answer")
    review = lead_defeat_request(
        lead=claimed_lead, actor=advisor, reason="bought_other_brand", evidence=EVIDENCE
    )
    assert Lead.objects.get(pk=claimed_lead.pk).status == "assigned"
    with pytest.raises(DomainError) as caught:
        lead_defeat_request(lead=claimed_lead, actor=advisor, reason="budget", evidence=EVIDENCE)
    assert caught.value.code == "defeat_pending"

    reviewed = defeat_review(lead=claimed_lead, actor=manager, approve=True, note="同意")

    lead = Lead.objects.get(pk=claimed_lead.pk)
    assert (lead.status, lead.defeated_at) == ("defeated", MONDAY_10)
    assert (reviewed.pk, reviewed.decision, reviewed.reviewed_by, reviewed.review_note) == (
        review.pk,
        "approved",
        manager,
        "同意",
    )
    assert {"lead.defeat_requested", "lead.defeated"} <= set(lead_events(lead))


def test_a_rejected_defeat_keeps_the_lead_open(claimed_lead, advisor, manager):
    contact_attempt_log(lead=claimed_lead, actor=advisor, outcome="reached")
    lead_defeat_request(lead=claimed_lead, actor=advisor, reason="postponed", evidence=EVIDENCE)

    review = defeat_review(lead=claimed_lead, actor=manager, approve=False, note="再跟进一次")

    assert review.decision == "rejected"
    assert Lead.objects.get(pk=claimed_lead.pk).status == "contacted"
    assert "lead.defeat_rejected" in lead_events(claimed_lead)


def test_an_advisor_cannot_review_a_defeat(claimed_lead, advisor):
    contact_attempt_log(lead=claimed_lead, actor=advisor, outcome="reached")
    lead_defeat_request(lead=claimed_lead, actor=advisor, reason="postponed", evidence=EVIDENCE)

    with pytest.raises(DomainError) as caught:
        defeat_review(lead=claimed_lead, actor=advisor, approve=True)

    assert caught.value.status == 403
    assert DefeatReview.objects.get().decision == "pending"


def _defeat(lead, advisor, manager):
    contact_attempt_log(lead=lead, actor=advisor, outcome="reached")
    lead_defeat_request(lead=lead, actor=advisor, reason="postponed", evidence=EVIDENCE)
    defeat_review(lead=lead, actor=manager, approve=True)
    return Lead.objects.get(pk=lead.pk)


def test_ops_reopen_a_defeated_lead_with_a_note(claimed_lead, advisor, manager, ops):
    lead = _defeat(claimed_lead, advisor, manager)

    reopened = lead_reopen(lead=lead, actor=ops, note="客户回电询价，重新跟进")

    assert (reopened.status, reopened.advisor, reopened.defeated_at) == ("assigned", advisor, None)
    assert reopened.next_follow_up_at == MONDAY_10
    assert LeadReopening.objects.get(lead=lead).note == "客户回电询价，重新跟进"
    assert AuditEntry.objects.get(action="lead.reopened").actor == ops
    assert "lead.reopened" in lead_events(lead)


def test_only_ops_reopen_and_only_defeated_leads(claimed_lead, advisor, manager, ops):
    with pytest.raises(DomainError) as caught:
        lead_reopen(lead=claimed_lead, actor=ops, note="why not")
    assert caught.value.code == "not_defeated"
    lead = _defeat(claimed_lead, advisor, manager)
    with pytest.raises(DomainError) as caught:
        lead_reopen(lead=lead, actor=manager, note="please")
    assert caught.value.status == 403
    assert Lead.objects.get(pk=lead.pk).status == "defeated"


def test_reopen_refuses_when_the_person_has_a_newer_open_lead(claimed_lead, advisor, manager, ops):
    lead = _defeat(claimed_lead, advisor, manager)
    _newer, created = capture()
    assert created is True

    with pytest.raises(DomainError) as caught:
        lead_reopen(lead=lead, actor=ops, note="客户回电")

    assert (caught.value.code, caught.value.status) == ("conflict", 409)
    assert Lead.objects.get(pk=lead.pk).status == "defeated"


# ---- The transition table, as a property ------------------------------------------------------------

ACTIONS = st.lists(
    st.one_of(
        st.tuples(st.just("move"), st.sampled_from(LeadStatus.values)),
        st.tuples(st.just("call"), st.sampled_from(["reached", "no_answer"])),
    ),
    max_size=12,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=ACTIONS)
def test_random_transition_sequences_only_take_allowed_steps(routed_lead, advisor, actions):
    lead = Lead.objects.get(pk=routed_lead.pk)
    start_status = lead.status
    start_events = Event.objects.count()
    try:
        lead_claim(lead=lead, actor=advisor)
        observed = ["new", "assigned"]
        for kind, value in actions:
            before = Lead.objects.get(pk=lead.pk).status
            try:
                if kind == "move":
                    lead_transition(lead=lead, to_status=value)
                else:
                    contact_attempt_log(lead=lead, actor=advisor, outcome=value)
            except DomainError:
                assert Lead.objects.get(pk=lead.pk).status == before
                continue
            after = Lead.objects.get(pk=lead.pk)
            if after.status != before:
                assert after.status in ALLOWED_TRANSITIONS[before]
                observed.append(after.status)
            if after.status == "defeated":
                assert ContactAttempt.objects.filter(lead=lead, dealer=after.dealer).exists()
            if after.status == "contacted":
                assert ContactAttempt.objects.filter(lead=lead, outcome="reached").exists()
        for earlier, later in itertools.pairwise(observed):
            assert later in ALLOWED_TRANSITIONS[earlier]
    finally:
        # Hypothesis reuses the function-scoped lead: put it back as it was for the next example.
        ContactAttempt.objects.filter(lead=lead).delete()
        Lead.objects.filter(pk=lead.pk).update(
            status=start_status,
            advisor=None,
            claimed_at=None,
            first_contacted_at=None,
            visit_booked_at=None,
            visited_at=None,
            test_driven_at=None,
            won_at=None,
            defeated_at=None,
        )
        Event.objects.filter(
            pk__in=list(Event.objects.order_by("occurred_at").values_list("pk", flat=True))[start_events:]
        ).delete()


def test_ops_cannot_defeat_a_lead_past_the_managers_review(claimed_lead, advisor, ops):
    contact_attempt_log(lead=claimed_lead, actor=advisor, outcome="reached")

    with pytest.raises(DomainError) as caught:
        lead_transition(lead=claimed_lead, to_status="defeated", actor=ops)

    assert caught.value.code == "transition_not_allowed"
    assert Lead.objects.get(pk=claimed_lead.pk).status == "contacted"
