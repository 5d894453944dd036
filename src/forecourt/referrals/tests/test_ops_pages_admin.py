"""The ops console's broker programme pages: enrol a professional, commission rules, read-only records."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from forecourt.accounts.models import Role
from forecourt.accounts.tests.factories import make_user
from forecourt.core.models import AuditEntry
from forecourt.referrals.models import Broker, BrokerStatus, CommissionRule

from .programme_cast import *  # noqa: F403
from .programme_cast import make_commission, make_referral, make_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def console(db) -> Client:
    admin_user = make_user(username="ops-admin", role=Role.OPS, is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin_user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.admin_user = admin_user  # type: ignore[attr-defined]
    return client


@pytest.mark.parametrize("model", ["broker", "commissionrule", "task", "commission", "statement", "payout"])
def test_every_programme_list_opens(frozen, console, broker, model):
    make_commission(make_referral(broker), amount_fen=100_00, task=make_task())
    response = console.get(reverse(f"admin:referrals_{model}_changelist"))
    assert response.status_code == 200


def test_ops_enrol_a_professional_broker(frozen, console, shanghai_city):
    person = make_user(username="pro-1", role=Role.CONSUMER, display_name="职业经纪人 赵敏")
    response = console.post(
        reverse("admin:referrals_broker_add"),
        {"user": person.pk, "kind": "professional", "city": shanghai_city.pk},
    )
    assert response.status_code == 302
    broker = Broker.objects.get(user=person)
    assert (broker.kind, broker.city, broker.enrolled_by) == (
        "professional",
        shanghai_city,
        console.admin_user,
    )
    assert AuditEntry.objects.filter(action="referrals.broker_enrolled", object_id=person.public_id).exists()


def test_staff_cannot_be_enrolled(frozen, console):
    staff = make_user(username="partner-1", role=Role.PARTNER)
    response = console.post(reverse("admin:referrals_broker_add"), {"user": staff.pk, "kind": "professional"})
    assert response.status_code == 200
    assert "Staff and partner accounts cannot be brokers." in response.content.decode()
    assert not Broker.objects.exists()


def test_ops_suspend_a_broker(frozen, console, broker):
    response = console.post(
        reverse("admin:referrals_broker_change", args=[broker.pk]),
        {"status": BrokerStatus.SUSPENDED, "city": broker.city_id},
    )
    assert response.status_code == 302
    assert Broker.objects.get(pk=broker.pk).status == BrokerStatus.SUSPENDED
    assert AuditEntry.objects.filter(action="referrals.broker_changed", object_id=broker.code).exists()


def test_a_commission_rule_is_entered_in_yuan(frozen, console):
    response = console.post(
        reverse("admin:referrals_commissionrule_add"),
        {"kind": "cps", "model_code": "nebula", "campaign": "", "amount_yuan": "1500.50", "is_active": "on"},
    )
    assert response.status_code == 302
    rule = CommissionRule.objects.get()
    assert (rule.kind, rule.model_code, rule.amount_fen) == ("cps", "nebula", 1_500_50)


def test_two_active_rules_for_one_scope_are_refused(frozen, console):
    CommissionRule.objects.create(kind="cpl", model_code="nebula", amount_fen=200_00)
    response = console.post(
        reverse("admin:referrals_commissionrule_add"),
        {"kind": "cpl", "model_code": "nebula", "campaign": "", "amount_yuan": "300", "is_active": "on"},
    )
    assert response.status_code == 200
    assert CommissionRule.objects.count() == 1


@pytest.mark.parametrize("model", ["task", "commission", "statement", "payout"])
def test_records_written_by_services_cannot_be_added_here(frozen, console, model):
    assert console.get(reverse(f"admin:referrals_{model}_add")).status_code == 403


def test_a_task_links_to_its_ops_page(frozen, console):
    task = make_task()
    body = console.get(reverse("admin:referrals_task_change", args=[task.pk])).content.decode()
    assert reverse("referrals-ops:task", args=[task.public_id]) in body
