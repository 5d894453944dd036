"""Monthly statements: what they take, what they net, tax and net; payouts recorded against them."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecourt.core import clock
from forecourt.core.errors import DomainError
from forecourt.core.models import AuditEntry, Event
from forecourt.referrals.models import (
    Commission,
    CommissionStatus,
    Payout,
    Statement,
    StatementStatus,
)
from forecourt.referrals.services import payout_record, statement_issue, statements_issue_for_month
from forecourt.referrals.statement_selectors import draft_from, statement_draft, statement_lines

from .programme_cast import *  # noqa: F403
from .programme_cast import DEC_1, NOV_10, make_broker, make_commission, make_referral

pytestmark = pytest.mark.django_db

OCT = date(2026, 10, 1)
NOV = date(2026, 11, 1)
OCT_20 = NOV_10 - timedelta(days=21)
DEC_5 = DEC_1 + timedelta(days=4, hours=10)


def _status(commission: Commission) -> tuple[str, int | None, int | None]:
    row = Commission.objects.get(pk=commission.pk)
    return row.status, row.statement_id, row.clawback_statement_id


def test_statement_takes_commission_available_by_the_months_end(broker):
    referral = make_referral(broker)
    with clock.frozen_at(DEC_5):
        available = make_commission(referral, amount_fen=200_00, available_at=OCT_20)
        # Pending in the stored status, but its hold ended in November: it reads (and is stated) available.
        matured = make_commission(
            referral, amount_fen=300_00, status=CommissionStatus.PENDING, available_at=NOV_10
        )
        # Its hold ends in December: next month's statement.
        later = make_commission(
            referral,
            amount_fen=999_00,
            status=CommissionStatus.PENDING,
            available_at=DEC_1 + timedelta(hours=1),
        )
        held = make_commission(referral, amount_fen=888_00, status=CommissionStatus.HELD, available_at=OCT_20)
        rejected = make_commission(
            referral, amount_fen=777_00, status=CommissionStatus.REJECTED, available_at=OCT_20
        )
        statement = statement_issue(broker=broker, month=NOV)

    assert (statement.month, statement.status) == (NOV, StatementStatus.ISSUED)
    assert (statement.gross_fen, statement.tax_fen, statement.net_fen) == (500_00, 0, 500_00)
    assert statement.issued_at == DEC_5
    assert _status(available) == (CommissionStatus.AVAILABLE, statement.pk, None)
    assert _status(matured) == (CommissionStatus.AVAILABLE, statement.pk, None)
    assert _status(later) == (CommissionStatus.PENDING, None, None)
    assert _status(held) == (CommissionStatus.HELD, None, None)
    assert _status(rejected) == (CommissionStatus.REJECTED, None, None)
    event = Event.objects.get(name="statement.issued")
    assert event.subject_id == statement.public_id
    assert event.payload == {
        "statement": statement.public_id,
        "broker": broker.user.public_id,
        "broker_code": broker.code,
        "month": "2026-11",
        "gross_fen": 500_00,
        "tax_fen": 0,
        "net_fen": 500_00,
        "commissions": 2,
        "clawbacks": 0,
    }


def test_tax_is_withheld_on_the_gross(broker):
    referral = make_referral(broker)
    with clock.frozen_at(DEC_5):
        make_commission(referral, amount_fen=3_000_00, available_at=OCT_20)
        make_commission(referral, amount_fen=2_000_00, available_at=NOV_10)
        statement = statement_issue(broker=broker, month="2026-11")
    # ¥5,000 > ¥4,000: 5,000 × 80 % × 20 % = ¥800.
    assert (statement.gross_fen, statement.tax_fen, statement.net_fen) == (5_000_00, 800_00, 4_200_00)


def test_issuing_again_returns_the_same_statement_and_changes_nothing(broker):
    referral = make_referral(broker)
    with clock.frozen_at(DEC_5):
        make_commission(referral, amount_fen=200_00, available_at=OCT_20)
        first = statement_issue(broker=broker, month=NOV)
        make_commission(referral, amount_fen=100_00, available_at=NOV_10)
        again = statement_issue(broker=broker, month=date(2026, 11, 17))
    assert again.pk == first.pk
    assert again.gross_fen == 200_00
    assert Statement.objects.count() == 1
    assert Event.objects.filter(name="statement.issued").count() == 1


def test_a_month_that_has_not_started_cannot_be_stated(broker):
    make_commission(make_referral(broker), amount_fen=200_00, available_at=OCT_20)
    with clock.frozen_at(NOV_10), pytest.raises(DomainError) as raised:
        statement_issue(broker=broker, month="2026-12")
    assert (raised.value.code, raised.value.status) == ("statement_month_not_started", 422)
    assert raised.value.details == [{"field": "month", "message": "That month has not started yet."}]
    assert not Statement.objects.exists()
    assert not Event.objects.filter(name="statement.issued").exists()


@pytest.mark.parametrize("month", ["2026-13", "26-11", "", "november", "1999-01"])
def test_a_malformed_month_is_refused(broker, month):
    with clock.frozen_at(NOV_10), pytest.raises(DomainError) as raised:
        statement_issue(broker=broker, month=month)
    assert (raised.value.code, raised.value.status) == ("invalid", 422)
    assert raised.value.details[0]["field"] == "month"
    assert not Statement.objects.exists()


def test_the_running_month_states_only_what_is_available_now(broker):
    referral = make_referral(broker)
    with clock.frozen_at(NOV_10):
        now_available = make_commission(
            referral,
            amount_fen=200_00,
            status=CommissionStatus.PENDING,
            available_at=NOV_10 - timedelta(hours=1),
        )
        tomorrow = make_commission(
            referral,
            amount_fen=300_00,
            status=CommissionStatus.PENDING,
            available_at=NOV_10 + timedelta(days=1),
        )
        statement = statement_issue(broker=broker, month=NOV)
    assert statement.gross_fen == 200_00
    assert _status(now_available)[1] == statement.pk
    assert _status(tomorrow) == (CommissionStatus.PENDING, None, None)
    # What was not ready stays for the next statement.
    with clock.frozen_at(DEC_5):
        december = statement_issue(broker=broker, month=DEC_1)
    assert december.gross_fen == 300_00
    assert _status(tomorrow)[1] == december.pk


def test_a_clawback_of_stated_commission_is_netted_once_by_the_next_statement(broker, ops):
    referral = make_referral(broker)
    with clock.frozen_at(NOV_10 - timedelta(days=9)):
        sale = make_commission(referral, amount_fen=1_500_00, available_at=OCT_20)
        october = statement_issue(broker=broker, month=OCT)
        payout_record(statement=october, reference="TRF-OCT-1", actor=ops)
    assert _status(sale) == (CommissionStatus.PAID, october.pk, None)
    # The car is returned in November: the paid commission is clawed back.
    Commission.objects.filter(pk=sale.pk).update(status=CommissionStatus.CLAWED_BACK, clawed_back_at=NOV_10)
    with clock.frozen_at(DEC_5):
        make_commission(referral, amount_fen=2_000_00, available_at=NOV_10)
        november = statement_issue(broker=broker, month=NOV)
        december = statement_issue(broker=broker, month=DEC_1)
    assert (november.gross_fen, november.tax_fen, november.net_fen) == (500_00, 0, 500_00)
    assert _status(sale) == (CommissionStatus.CLAWED_BACK, october.pk, november.pk)
    assert [(line.amount_fen, line.is_clawback) for line in statement_lines(november)] == [
        (2_000_00, False),
        (-1_500_00, True),
    ]
    assert (december.gross_fen, december.net_fen) == (0, 0)


def test_clawbacks_larger_than_the_months_commission_wait_for_a_later_statement(broker):
    referral = make_referral(broker)
    with clock.frozen_at(NOV_10):
        october = Statement.objects.create(
            broker=broker, month=OCT, gross_fen=0, tax_fen=0, net_fen=0, status="issued", issued_at=NOV_10
        )
        first = make_commission(
            referral,
            amount_fen=300_00,
            status=CommissionStatus.CLAWED_BACK,
            statement=october,
            clawed_back_at=NOV_10 - timedelta(days=2),
        )
        second = make_commission(
            referral,
            amount_fen=500_00,
            status=CommissionStatus.CLAWED_BACK,
            statement=october,
            clawed_back_at=NOV_10 - timedelta(days=1),
        )
        make_commission(referral, amount_fen=600_00, available_at=NOV_10 - timedelta(hours=2))
    with clock.frozen_at(DEC_5):
        november = statement_issue(broker=broker, month=NOV)
    # 600 − 300 = 300; the 500 does not fit (the gross never goes below zero) and waits.
    assert (november.gross_fen, november.net_fen) == (300_00, 300_00)
    assert _status(first)[2] == november.pk
    assert _status(second)[2] is None
    with clock.frozen_at(DEC_5 + timedelta(days=31)):
        make_commission(referral, amount_fen=800_00, available_at=DEC_5)
        december = statement_issue(broker=broker, month=DEC_1)
    assert december.gross_fen == 300_00
    assert _status(second)[2] == december.pk


def test_a_broker_with_nothing_gets_a_statement_of_nothing(broker):
    with clock.frozen_at(DEC_5):
        statement = statement_issue(broker=broker, month=NOV)
    assert (statement.gross_fen, statement.tax_fen, statement.net_fen) == (0, 0, 0)


def test_issuing_for_a_month_states_every_broker_with_something_to_state(broker, other_broker, ops):
    quiet = make_broker("broker-quiet", city=broker.city)
    with clock.frozen_at(DEC_5):
        make_commission(make_referral(broker), amount_fen=200_00, available_at=NOV_10)
        make_commission(make_referral(other_broker), amount_fen=300_00, available_at=NOV_10)
        # Only a held commission: nothing to state.
        make_commission(make_referral(quiet), amount_fen=5_00, status=CommissionStatus.HELD)
        issued = statements_issue_for_month(month="2026-11", actor=ops)
    assert sorted((item.broker.code, item.gross_fen) for item in issued) == sorted(
        [(broker.code, 200_00), (other_broker.code, 300_00)]
    )
    assert not Statement.objects.filter(broker=quiet).exists()
    assert AuditEntry.objects.filter(action="statement.issued").count() == 2


def test_only_ops_issue_statements_for_a_month(broker):
    make_commission(make_referral(broker), amount_fen=200_00, available_at=NOV_10)
    with clock.frozen_at(DEC_5), pytest.raises(DomainError) as raised:
        statements_issue_for_month(month=NOV, actor=broker.user)
    assert raised.value.status == 403
    assert not Statement.objects.exists()


def test_a_draft_shows_what_a_statement_would_hold_without_writing(broker):
    referral = make_referral(broker)
    with clock.frozen_at(DEC_5):
        make_commission(referral, amount_fen=5_000_00, available_at=NOV_10)
        draft = statement_draft(broker=broker, month=NOV)
    assert (draft.gross_fen, draft.tax_fen, draft.net_fen) == (5_000_00, 800_00, 4_200_00)
    assert not Statement.objects.exists()


# ---- payouts ----------------------------------------------------------------------------------------


@pytest.fixture
def november(broker) -> Statement:
    referral = make_referral(broker)
    with clock.frozen_at(DEC_5):
        make_commission(referral, amount_fen=3_000_00, available_at=NOV_10)
        make_commission(referral, amount_fen=2_000_00, available_at=NOV_10, kind="cps")
        return statement_issue(broker=broker, month=NOV)


def test_a_payout_pays_the_net_and_marks_the_commission_paid(november, ops):
    with clock.frozen_at(DEC_5 + timedelta(days=3)):
        payout = payout_record(statement=november, reference="  ICBC 2026120800017 ", actor=ops)
    assert (payout.amount_fen, payout.reference, payout.recorded_by) == (4_200_00, "ICBC 2026120800017", ops)
    assert Statement.objects.get(pk=november.pk).status == StatementStatus.PAID
    assert set(november.commissions.values_list("status", flat=True)) == {CommissionStatus.PAID}
    event = Event.objects.get(name="statement.paid")
    assert (event.payload["reference"], event.payload["amount_fen"], event.payload["commissions"]) == (
        "ICBC 2026120800017",
        4_200_00,
        2,
    )
    assert AuditEntry.objects.filter(action="statement.paid", object_id=november.public_id).count() == 1


def test_commission_clawed_back_before_the_payout_stays_clawed_back(november, ops):
    clawed = november.commissions.order_by("pk").first()
    Commission.objects.filter(pk=clawed.pk).update(
        status=CommissionStatus.CLAWED_BACK, clawed_back_at=DEC_5 + timedelta(days=1)
    )
    with clock.frozen_at(DEC_5 + timedelta(days=3)):
        payout_record(statement=november, reference="TRF-1", actor=ops)
    assert sorted(november.commissions.values_list("status", flat=True)) == [
        CommissionStatus.CLAWED_BACK,
        CommissionStatus.PAID,
    ]
    # Paid with the statement, so December's statement nets it.
    assert Commission.objects.get(pk=clawed.pk).clawback_statement_id is None


def test_recording_the_same_transfer_twice_keeps_the_first(november, ops):
    with clock.frozen_at(DEC_5):
        first = payout_record(statement=november, reference="TRF-1", actor=ops)
        again = payout_record(statement=november, reference="TRF-1", actor=ops)
    assert again.pk == first.pk
    assert Payout.objects.count() == 1
    assert Event.objects.filter(name="statement.paid").count() == 1


def test_a_second_different_transfer_is_refused(november, ops):
    with clock.frozen_at(DEC_5):
        payout_record(statement=november, reference="TRF-1", actor=ops)
        with pytest.raises(DomainError) as raised:
            payout_record(statement=november, reference="TRF-2", actor=ops)
    assert (raised.value.code, raised.value.status) == ("statement_already_paid", 409)
    assert list(Payout.objects.values_list("reference", flat=True)) == ["TRF-1"]


def test_a_statement_of_nothing_cannot_be_paid(broker, ops):
    with clock.frozen_at(DEC_5):
        empty = statement_issue(broker=broker, month=NOV)
        with pytest.raises(DomainError) as raised:
            payout_record(statement=empty, reference="TRF-0", actor=ops)
    assert (raised.value.code, raised.value.status) == ("statement_nothing_to_pay", 409)
    assert not Payout.objects.exists()
    assert Statement.objects.get(pk=empty.pk).status == StatementStatus.ISSUED


@pytest.mark.parametrize(
    ("reference", "field"), [("", "reference"), ("   ", "reference"), ("x" * 65, "reference")]
)
def test_a_payout_needs_a_transfer_reference(november, ops, reference, field):
    with clock.frozen_at(DEC_5), pytest.raises(DomainError) as raised:
        payout_record(statement=november, reference=reference, actor=ops)
    assert raised.value.status == 422
    assert raised.value.details[0]["field"] == field
    assert not Payout.objects.exists()


def test_only_ops_record_payouts(november, broker):
    with clock.frozen_at(DEC_5), pytest.raises(DomainError) as raised:
        payout_record(statement=november, reference="TRF-1", actor=broker.user)
    assert raised.value.status == 403
    assert not Payout.objects.exists()
    assert Statement.objects.get(pk=november.pk).status == StatementStatus.ISSUED


# ---- netting, as a property ----------------------------------------------------------------------


class _Row:
    """A stand-in for a commission row (draft_from only reads these fields)."""

    def __init__(self, pk: int, amount_fen: int, clawed_back_at: datetime | None = None) -> None:
        self.pk = pk
        self.amount_fen = amount_fen
        self.clawed_back_at = clawed_back_at
        self.updated_at = clawed_back_at


@settings(max_examples=200, deadline=None)
@given(
    earned=st.lists(st.integers(min_value=1, max_value=50_000_00), max_size=8),
    clawed=st.lists(st.integers(min_value=1, max_value=50_000_00), max_size=8),
)
def test_netting_never_takes_the_gross_below_zero_and_keeps_clawbacks_in_order(earned, clawed):
    earned_rows = [_Row(index, amount) for index, amount in enumerate(earned)]
    clawback_rows = [
        _Row(100 + index, amount, NOV_10 + timedelta(minutes=index)) for index, amount in enumerate(clawed)
    ]
    draft = draft_from(broker=None, month=NOV, earned=earned_rows, clawbacks=list(reversed(clawback_rows)))  # type: ignore[arg-type]
    assert draft.gross_fen >= 0
    assert draft.gross_fen == sum(earned) - draft.netted_fen
    # Netted then carried is every clawback, oldest first: nothing lost, nothing jumps the queue.
    assert [row.pk for row in draft.netted + draft.carried] == [row.pk for row in clawback_rows]
    if draft.carried:
        assert draft.carried[0].amount_fen > draft.gross_fen
    assert draft.net_fen == draft.gross_fen - draft.tax_fen >= 0
