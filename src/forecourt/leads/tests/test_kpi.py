"""KPIs per dealer and advisor: received, within SLA, time to contact, visit/test-drive/defeat rates."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from forecourt.core import clock
from forecourt.core.clock import SHANGHAI
from forecourt.leads.kpi import dealer_kpi_report
from forecourt.leads.services import (
    contact_attempt_log,
    defeat_review,
    lead_claim,
    lead_defeat_request,
    lead_sla_sweep,
    lead_transition,
)
from forecourt.leads.tests.conftest import capture

pytestmark = pytest.mark.django_db
DAY = date(2026, 11, 23)


def at(hour: int, minute: int = 0, day: int = 23) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


def test_kpis_of_a_dealer_and_its_advisors(model, dealer, second_dealer, advisor, second_advisor, manager):
    with clock.frozen_at(at(10)):
        fast, _ = capture(phone="13900000001", dealer_public_id=dealer.public_id)
        slow, _ = capture(phone="13900000002", dealer_public_id=dealer.public_id)
        lost, _ = capture(phone="13900000003", dealer_public_id=dealer.public_id)
        _lapsed, _ = capture(phone="13900000004", dealer_public_id=dealer.public_id)
        lead_claim(lead=fast, actor=advisor)
        lead_claim(lead=slow, actor=second_advisor)
        lead_claim(lead=lost, actor=advisor)
    with clock.frozen_at(at(10, 30)):
        contact_attempt_log(lead=fast, actor=advisor, outcome="reached")
        contact_attempt_log(lead=lost, actor=advisor, outcome="no_answer")
        lead_transition(lead=fast, to_status="visit_booked", actor=advisor)
        lead_transition(lead=fast, to_status="visited", actor=advisor)
        lead_transition(lead=fast, to_status="test_driven", actor=advisor)
        lead_defeat_request(
            lead=lost,
            actor=advisor,
            reason="unreachable",
            evidence="Three calls, never answered, SMS unanswered.",
        )
        defeat_review(lead=lost, actor=manager, approve=True)
    with clock.frozen_at(at(13)):
        contact_attempt_log(lead=slow, actor=second_advisor, outcome="reached")
    with clock.frozen_at(at(14)):
        lead_sla_sweep()  # `lapsed` moves to second_dealer

    report = dealer_kpi_report(dealer=dealer, start=DAY, end=DAY, now=at(18))

    row = report.dealer
    assert row.leads_received == 4
    # fast (30 min) and lost (30 min) in time; slow at 180 min late; lapsed re-routed away.
    assert row.contacted_within_sla_pct == 50.0
    assert row.median_minutes_to_first_contact == 30.0
    assert (row.visit_rate, row.test_drive_rate, row.defeat_rate) == (25.0, 25.0, 25.0)
    by_advisor = {r.key: r for r in report.advisors}
    assert by_advisor[advisor.public_id].leads_received == 2
    assert by_advisor[advisor.public_id].contacted_within_sla_pct == 100.0
    assert by_advisor[advisor.public_id].defeat_rate == 50.0
    assert by_advisor[second_advisor.public_id].contacted_within_sla_pct == 0.0
    assert by_advisor[second_advisor.public_id].median_minutes_to_first_contact == 180.0
    assert report.daily == [{"date": "2026-11-23", "received": 4, "contacted_within_sla": 2, "visited": 1}]

    other = dealer_kpi_report(dealer=second_dealer, start=DAY, end=DAY, now=at(15))
    assert other.dealer.leads_received == 1
    # Its clock (till 16:00) is still running: not yet counted either way.
    assert other.dealer.contacted_within_sla_pct is None


def test_an_empty_period_has_no_rates(db, dealer):
    report = dealer_kpi_report(dealer=dealer, start=DAY, end=DAY + timedelta(days=2), now=at(10))

    assert report.dealer.leads_received == 0
    assert report.dealer.contacted_within_sla_pct is None
    assert report.dealer.median_minutes_to_first_contact is None
    assert [d["date"] for d in report.daily] == ["2026-11-23", "2026-11-24", "2026-11-25"]
