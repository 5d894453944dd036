"""The broker's programme pages: task board and accepting, leaderboard, statements and downloads, honours."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from forecourt.accounts.models import Role
from forecourt.accounts.tests.factories import make_user
from forecourt.core import clock
from forecourt.referrals.models import CommissionStatus, Stage, TaskAcceptance
from forecourt.referrals.services import badges_award, payout_record, statement_issue

from .programme_cast import *  # noqa: F403
from .programme_cast import DEC_1, NOV_10, make_broker, make_commission, make_referral, make_task

pytestmark = pytest.mark.django_db

NOV = date(2026, 11, 1)


@pytest.fixture
def client_for():
    def _client(user) -> Client:
        client = Client()
        client.force_login(user)
        # Pages default to Chinese; these tests read the English source strings.
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return client

    return _client


@pytest.fixture
def broker_client(broker, client_for) -> Client:
    return client_for(broker.user)


# ---- who may see the pages ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["tasks", "leaderboard", "statements", "honours"])
def test_pages_ask_a_visitor_to_sign_in(frozen, name):
    response = Client().get(reverse(f"referrals-programme:{name}"))
    assert response.status_code == 302
    assert "sign-in" in response["Location"] or "login" in response["Location"]


@pytest.mark.parametrize("name", ["tasks", "leaderboard", "statements", "honours"])
def test_someone_who_is_not_a_broker_is_sent_to_the_broker_home(frozen, client_for, name):
    consumer = make_user(username="consumer-1", role=Role.CONSUMER)
    response = client_for(consumer).get(reverse(f"referrals-programme:{name}"))
    assert response.status_code == 302
    assert response["Location"] == reverse("referrals:dashboard")


# ---- tasks --------------------------------------------------------------------------------------------


def test_the_task_board_shows_running_tasks_and_a_broker_takes_one_on(frozen, broker, broker_client, suv):
    task = make_task(title="星云 上海试驾 20 台", model_code="nebula", city=broker.city)
    ended = make_task(
        title="上月任务", starts_at=NOV_10 - timedelta(days=40), ends_at=NOV_10 - timedelta(days=10)
    )
    page = broker_client.get(reverse("referrals-programme:tasks"))
    body = page.content.decode()
    assert page.status_code == 200
    assert "星云 上海试驾 20 台" in body
    assert "上月任务" not in body
    assert "Take on this task" in body
    assert "¥200" in body and "¥1,000" in body

    response = broker_client.post(
        reverse("referrals-programme:task-accept", args=[task.public_id]), follow=True
    )
    assert response.redirect_chain == [(reverse("referrals-programme:tasks"), 302)]
    assert TaskAcceptance.objects.filter(task=task, broker=broker).count() == 1
    body = response.content.decode()
    assert "Taken on" in body
    assert f'data-task="{task.public_id}" data-accepted="yes"' in body
    assert ended.public_id not in body


def test_accepting_a_full_task_says_why_and_accepts_nothing(frozen, broker, broker_client):
    task = make_task(committed_fen=900_00)
    response = broker_client.post(
        reverse("referrals-programme:task-accept", args=[task.public_id]), follow=True
    )
    assert "This task is no longer open" in response.content.decode()
    assert not TaskAcceptance.objects.exists()


def test_accepting_an_unknown_or_draft_task_is_not_found(frozen, broker_client):
    draft = make_task(status="draft")
    assert (
        broker_client.post(reverse("referrals-programme:task-accept", args=["tsk_nope"])).status_code == 404
    )
    assert (
        broker_client.post(reverse("referrals-programme:task-accept", args=[draft.public_id])).status_code
        == 404
    )
    assert (
        broker_client.get(reverse("referrals-programme:task-accept", args=[draft.public_id])).status_code
        == 405
    )
    assert not TaskAcceptance.objects.exists()


def test_a_broker_sees_their_own_results_on_a_task(frozen, broker, other_broker, broker_client):
    task = make_task()
    TaskAcceptance.objects.create(task=task, broker=broker, accepted_at=NOV_10)
    make_commission(make_referral(broker), amount_fen=200_00, task=task, status=CommissionStatus.PENDING)
    make_commission(
        make_referral(other_broker), amount_fen=200_00, task=task, status=CommissionStatus.PENDING
    )
    body = broker_client.get(reverse("referrals-programme:tasks")).content.decode()
    assert "Your friends: 1 result, ¥200" in body
    assert "2 of 5 results so far" in body


# ---- leaderboard ----------------------------------------------------------------------------------------


def test_the_leaderboard_shows_the_brokers_city_this_month_with_their_row_marked(
    frozen, broker, other_broker, broker_client
):
    for _index in range(2):
        make_referral(broker, stage=Stage.QUALIFIED, qualified_at=NOV_10 - timedelta(hours=2))
    make_referral(other_broker, stage=Stage.QUALIFIED, qualified_at=NOV_10 - timedelta(hours=3))
    body = broker_client.get(reverse("referrals-programme:leaderboard")).content.decode()
    assert 'id="my-rank"' in body
    assert "林* (you)" in body
    assert "周*" in body
    assert "周杰" not in body  # names are masked


def test_the_leaderboard_ignores_a_month_it_does_not_offer(frozen, broker, broker_client):
    for month in ("2019-01", "garbage", "2026-12"):
        response = broker_client.get(
            reverse("referrals-programme:leaderboard"), {"month": month, "city": "nowhere"}
        )
        assert response.status_code == 200
        assert '<option value="2026-11" selected>' in response.content.decode()


def test_the_leaderboard_of_an_earlier_month(frozen, broker, broker_client):
    make_referral(broker, stage=Stage.QUALIFIED, qualified_at=NOV_10 - timedelta(days=15))
    october = broker_client.get(reverse("referrals-programme:leaderboard"), {"month": "2026-10"})
    november = broker_client.get(reverse("referrals-programme:leaderboard"))
    assert 'id="my-rank"' in october.content.decode()
    assert 'id="not-ranked"' in november.content.decode() or 'id="empty-board"' in november.content.decode()


# ---- statements -------------------------------------------------------------------------------------------


@pytest.fixture
def november_statement(broker, ops):
    referral = make_referral(
        broker, person=make_user(username="friend-zhang", role=Role.CONSUMER, display_name="张伟")
    )
    task = make_task(title='=HYPERLINK("http://evil")')
    with clock.frozen_at(DEC_1 + timedelta(days=2)):
        make_commission(referral, amount_fen=3_000_00, available_at=NOV_10)
        make_commission(referral, amount_fen=2_000_00, available_at=NOV_10, task=task)
        statement = statement_issue(broker=broker, month=NOV)
        payout_record(statement=statement, reference="ICBC-001", actor=ops)
    return statement


def test_a_broker_lists_and_reads_their_statements(november_statement, broker_client):
    with clock.frozen_at(DEC_1 + timedelta(days=3)):
        listing = broker_client.get(reverse("referrals-programme:statements")).content.decode()
        detail = broker_client.get(
            reverse("referrals-programme:statement", args=[november_statement.public_id])
        ).content.decode()
    assert november_statement.public_id in listing
    assert "2026-11" in listing
    assert 'id="running-month"' in listing  # December so far
    assert 'id="statement-gross">¥5,000<' in detail
    assert 'id="statement-tax">¥800<' in detail
    assert 'id="statement-net">¥4,200<' in detail
    assert "transfer ICBC-001" in detail


def test_another_brokers_statement_is_not_found(november_statement, other_broker, client_for):
    client = client_for(other_broker.user)
    for url in (
        reverse("referrals-programme:statement", args=[november_statement.public_id]),
        reverse("referrals-programme:statement-download", args=[november_statement.public_id, "csv"]),
        reverse("referrals-programme:statement-download", args=[november_statement.public_id, "xlsx"]),
    ):
        assert client.get(url).status_code == 404


def test_the_statement_downloads_as_csv_with_a_bom_and_no_formulas(november_statement, broker_client):
    response = broker_client.get(
        reverse("referrals-programme:statement-download", args=[november_statement.public_id, "csv"])
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="statement-{november_statement.broker.code}-2026-11.csv"'
    )
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == ["Statement", november_statement.public_id, "Month", "2026-11"]
    assert rows[1] == ["Date", "Item", "Friend", "Referral", "Commission", "Status", "Amount (yuan)"]
    items = {row[1]: row for row in rows[2:] if len(row) > 1}
    assert items["Per lead (CPL)"][2] == "张*"
    assert items["Per lead (CPL)"][6] == "3000.00"
    assert items['Task: =HYPERLINK("http://evil")'][6] == "2000.00"
    assert items["Gross commission"][6] == "5000.00"
    assert items["Tax withheld"][6] == "-800.00"
    assert items["Net payable"][6] == "4200.00"
    assert items["Paid: transfer ICBC-001"][6] == "4200.00"


def test_a_cell_that_would_be_a_formula_is_quoted(broker, broker_client):
    # A friend who signed up as "=HYPERLINK(1)" is shown masked as "=**": a spreadsheet must not run it.
    friend = make_user(username="friend-evil", role=Role.CONSUMER, display_name="=HYPERLINK(1)")
    with clock.frozen_at(DEC_1 + timedelta(days=2)):
        make_commission(make_referral(broker, person=friend), amount_fen=100_00, available_at=NOV_10)
        statement = statement_issue(broker=broker, month=NOV)
    url = reverse("referrals-programme:statement-download", args=[statement.public_id, "csv"])
    rows = list(csv.reader(io.StringIO(broker_client.get(url).content.decode("utf-8").lstrip("\ufeff"))))
    assert rows[2][2] == "'=**"
    xlsx = broker_client.get(
        reverse("referrals-programme:statement-download", args=[statement.public_id, "xlsx"])
    )
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.cell(row=3, column=3).value == "'=**"


def test_the_statement_downloads_as_excel(november_statement, broker_client):
    response = broker_client.get(
        reverse("referrals-programme:statement-download", args=[november_statement.public_id, "xlsx"])
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("Statement", november_statement.public_id, "Month", "2026-11")
    totals = {row[1]: row[6] for row in rows[2:] if row[1]}
    assert totals["Gross commission"] == 5000.0
    assert totals["Tax withheld"] == -800.0
    assert totals["Net payable"] == 4200.0
    assert sheet.cell(row=3, column=7).number_format == '"¥"#,##0.00'


def test_an_unknown_download_format_is_not_found(november_statement, broker_client):
    url = reverse("referrals-programme:statement-download", args=[november_statement.public_id, "pdf"])
    assert broker_client.get(url).status_code == 404


# ---- honours -----------------------------------------------------------------------------------------


def test_the_honours_page_shows_level_badges_and_rank(frozen, broker, broker_client):
    for _index in range(3):
        make_referral(broker, stage=Stage.QUALIFIED, qualified_at=NOV_10 - timedelta(hours=1))
    badges_award(broker=broker)
    body = broker_client.get(reverse("referrals-programme:honours")).content.decode()
    assert 'data-level="bronze"' in body
    assert "Bronze broker" in body
    assert "7 more to Silver broker." in body
    assert 'data-badge="first-visit" data-earned="yes"' in body
    assert 'data-badge="first-sale" data-earned="no"' in body
    assert "number 1 of 1" in body


def test_a_new_broker_starts_as_a_newcomer(frozen, client_for, shanghai_city):
    fresh = make_broker("broker-new", city=shanghai_city, name="新人")
    body = client_for(fresh.user).get(reverse("referrals-programme:honours")).content.decode()
    assert 'data-level="newcomer"' in body
    assert "3 more to Bronze broker." in body
