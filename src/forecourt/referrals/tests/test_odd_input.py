"""Nothing in the broker programme answers 500: odd ids on every page and endpoint, months and dates past
what a date can hold, numbers past what a column can hold. Each is refused (404, 422, a message on the
page) and changes nothing."""

from __future__ import annotations

from typing import cast

import pytest
from django.conf import settings
from django.test import Client

from forecourt.accounts.models import Role, User
from forecourt.accounts.tests.factories import UserFactory
from forecourt.referrals.models import Broker, Statement, Task

from .programme_cast import *  # noqa: F403
from .programme_cast import make_commission, make_referral

pytestmark = pytest.mark.django_db

ODD_IDS = ["x" * 300, "%00", "' OR 1=1 --", "%E5%BC%A0", "9999-12"]
PAGES = [
    ("get", "/r/{odd}/?m={odd}"),
    ("get", "/broker/referrals/?stage={odd}&page={odd}"),
    ("get", "/broker/poster.svg?m={odd}"),
    ("post", "/broker/tasks/{odd}/accept/"),
    ("get", "/broker/leaderboard/?month={odd}&city={odd}"),
    ("get", "/broker/statements/{odd}/"),
    ("get", "/broker/statements/{odd}/download.{odd}"),
    ("post", "/referrals/ops/commissions/{odd}/decide/"),
    ("get", "/referrals/ops/tasks/{odd}/"),
    ("post", "/referrals/ops/tasks/{odd}/{odd}/"),
    ("get", "/referrals/ops/statements/?month={odd}"),
    ("get", "/referrals/ops/statements/{odd}/download.csv"),
    ("post", "/referrals/ops/statements/{odd}/payout/"),
    ("get", "/api/v1/broker/referrals/{odd}"),
    ("get", "/api/v1/broker/referrals?stage={odd}&offset={odd}"),
    ("get", "/api/v1/broker/commissions?status={odd}&limit={odd}"),
    ("get", "/api/v1/broker/tasks/{odd}"),
    ("post", "/api/v1/broker/tasks/{odd}/accept"),
    ("get", "/api/v1/broker/statements/{odd}"),
    ("get", "/api/v1/broker/leaderboard?month={odd}&city={odd}"),
]


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_odd_ids_on_every_page_and_endpoint_are_refused_not_a_crash(frozen, broker, other_broker, ops):
    # Another broker's real ids are as odd to this broker as made-up ones.
    theirs = make_referral(other_broker)
    odd = [*ODD_IDS, theirs.public_id, make_commission(theirs, amount_fen=100_00).public_id]
    crashes = []
    for user in (broker.user, ops):
        client = _client(user)
        for method, path in PAGES:
            for value in odd:
                response = getattr(client, method)(path.format(odd=value))
                if response.status_code >= 500:
                    crashes.append((user.username, method, path, value, response.status_code))

    assert crashes == []
    assert (Task.objects.count(), Statement.objects.count()) == (0, 0)


@pytest.mark.parametrize("month", ["9999-12", "3000-01", "1999-12"])
def test_a_month_past_the_calendar_is_422_on_the_api_and_issues_nothing(frozen, broker, ops, month):
    leaderboard = _client(broker.user).get(f"/api/v1/broker/leaderboard?month={month}")
    issued = _client(ops).post("/referrals/ops/statements/issue/", {"month": month})

    assert (leaderboard.status_code, leaderboard.json()["details"][0]["field"]) == (422, "month")
    assert (issued.status_code, issued["Location"]) == (302, "/referrals/ops/statements/")
    assert Statement.objects.count() == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [("target_count", "99999999999999999999"), ("starts_on", "0001-01-01"), ("ends_on", "10000-01-01")],
)
def test_a_task_form_past_what_the_columns_hold_comes_back_with_the_error(frozen, ops, suv, field, value):
    form = {
        "title": "星云 试驾",
        "goal": "test_drive",
        "kind": "cpl",
        "model": "nebula",
        "amount_yuan": "200",
        "budget_yuan": "1000",
        "starts_on": "2026-11-10",
        "ends_on": "2026-11-30",
        field: value,
    }

    response = _client(ops).post("/referrals/ops/tasks/", form)

    assert response.status_code == 422
    assert Task.objects.count() == 0


def test_a_task_paying_a_fen_from_a_huge_budget_aims_at_a_target_the_column_holds(frozen, ops):
    form = {
        "title": "一分钱任务",
        "goal": "test_drive",
        "amount_yuan": "0.01",
        "budget_yuan": "999999999999",
        "starts_on": "2026-11-10",
        "ends_on": "2026-11-30",
    }

    response = _client(ops).post("/referrals/ops/tasks/", form)

    task = Task.objects.get()
    assert response.status_code == 302
    assert (task.amount_fen, task.budget_fen, task.target_count) == (1, 99_999_999_999_900, 1_000_000)


@pytest.mark.parametrize("path", ["/api/v1/broker/referrals", "/api/v1/broker/commissions"])
def test_an_offset_past_any_page_is_422_naming_it(frozen, broker, path):
    response = _client(broker.user).get(f"{path}?offset=100000000000000000000000")

    assert response.status_code == 422
    assert "offset" in str(response.json())


def test_someone_naming_another_user_to_enrol_is_refused_before_the_lookup(frozen, broker):
    consumer = cast(User, UserFactory(username="consumer-odd", role=Role.CONSUMER))
    client = _client(consumer)

    unknown = client.post("/api/v1/broker/enrol", {"user": "usr_NOBODY"}, content_type="application/json")
    known = client.post(
        "/api/v1/broker/enrol", {"user": broker.user.public_id}, content_type="application/json"
    )

    assert (unknown.status_code, unknown.json()["code"]) == (403, "forbidden")
    assert (known.status_code, known.json()["code"]) == (403, "forbidden")
    assert list(Broker.objects.values_list("user__username", flat=True)) == ["broker-lin"]
