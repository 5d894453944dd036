"""The ops console for campaigns (/ops/offers/campaign/): the list with its budget columns, a valid campaign
of each kind created through the add form, the form's refusals (each with its message, nothing saved) and
who may reach it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from forecourt.accounts.models import Role
from forecourt.accounts.tests.factories import make_user
from forecourt.core import clock
from forecourt.core.models import AuditEntry
from forecourt.offers.models import Campaign, CouponKind, OnCancel
from forecourt.offers.tests.factories import make_campaign, make_consumer, make_merchant, make_staff

pytestmark = pytest.mark.django_db

LIST = "/ops/offers/campaign/"
ADD = "/ops/offers/campaign/add/"


@pytest.fixture
def ops() -> Any:
    return make_user(username="ops-root", role=Role.OPS, is_staff=True, is_superuser=True)


@pytest.fixture
def console(ops) -> Client:
    client = Client()
    client.force_login(ops)
    client.cookies["django_language"] = "en"
    return client


def _moment(prefix: str, at) -> dict[str, str]:
    local = at.astimezone(clock.SHANGHAI)
    return {f"{prefix}_0": local.strftime("%Y-%m-%d"), f"{prefix}_1": local.strftime("%H:%M:%S")}


def form_data(**overrides: Any) -> dict[str, Any]:
    """The add form as ops fill it in for a ¥2,000 cash-off campaign; `overrides` replace fields."""
    at = clock.now()
    data: dict[str, Any] = {
        "name": "国庆购车立减",
        "name_en": "National Day discount",
        "kind": CouponKind.CASH_OFF,
        "is_active": "on",
        "description": "",
        "description_en": "",
        "conditions": "",
        "conditions_en": "",
        **_moment("starts_at", at - timedelta(days=1)),
        **_moment("ends_at", at + timedelta(days=30)),
        "valid_until_0": "",
        "valid_until_1": "",
        "valid_days": "30",
        "channels": "web, app",
        "face_value_fen": "200000",
        "percent_off_bp": "0",
        "percent_cap_fen": "0",
        "price_fen": "0",
        "gift_description": "",
        "gift_description_en": "",
        "merchant": "",
        "budget_count": "100",
        "budget_fen": "",
        "per_person_limit": "1",
        "eligible_models": "aurora",
        "eligible_trims": "",
        "eligible_cities": "shanghai，hangzhou",
        "eligible_dealers": "",
        "max_order_discount_fen": "",
        "on_cancel": OnCancel.RELEASE,
        "_save": "Save",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def errors_of(response) -> dict[str, list[str]]:
    assert response.status_code == 200, response.status_code
    return {field: list(messages) for field, messages in response.context["adminform"].form.errors.items()}


def test_ops_see_campaigns_with_budget_used_and_left(console) -> None:
    make_campaign(name="到店礼", budget_count=100, claimed_count=25)
    make_campaign(
        name="9.5折",
        kind=CouponKind.PERCENT_OFF,
        percent_off_bp=500,
        percent_cap_fen=8_000_00,
        budget_count=None,
        budget_fen=1_000_000_00,
        claimed_fen=400_000_00,
    )
    response = console.get(LIST)
    assert response.status_code == 200
    page = response.content.decode()
    assert "到店礼" in page and "9.5折" in page
    assert "25/100" in page and "75%" in page
    assert "¥400,000/¥1,000,000" in page and "60%" in page


KIND_FIELDS: dict[str, dict[str, Any]] = {
    CouponKind.CASH_OFF: {},
    CouponKind.PERCENT_OFF: {
        "face_value_fen": "0",
        "percent_off_bp": "500",
        "percent_cap_fen": "800000",
        "max_order_discount_fen": "1200000",
    },
    CouponKind.GIFT: {"face_value_fen": "39900", "gift_description": "车载香氛一份", "eligible_models": ""},
    CouponKind.MERCHANT_SERVICE: {"face_value_fen": "6800", "eligible_models": "", "per_person_limit": "3"},
    CouponKind.PAID_MULTIPLIER: {"price_fen": "9900", "on_cancel": OnCancel.VOID, "per_person_limit": "2"},
    CouponKind.SUBSIDY: {"face_value_fen": "1000000", "budget_count": "", "budget_fen": "50000000"},
}


@pytest.mark.parametrize("kind", list(KIND_FIELDS))
def test_ops_create_a_valid_campaign_of_each_kind(console, ops, kind: str) -> None:
    fields = dict(KIND_FIELDS[kind])
    if kind == CouponKind.MERCHANT_SERVICE:
        fields["merchant"] = str(make_merchant().pk)
    response = console.post(ADD, form_data(kind=kind, name=f"活动-{kind}", **fields))
    assert response.status_code == 302, errors_of(response)
    campaign = Campaign.objects.get()
    assert (campaign.kind, campaign.name, campaign.created_by, campaign.claimed_count) == (
        kind,
        f"活动-{kind}",
        ops,
        0,
    )
    assert campaign.channels == ["web", "app"]
    assert campaign.eligible_cities == ["shanghai", "hangzhou"]
    assert campaign.public_id.startswith("cmp")
    entry = AuditEntry.objects.get(action="campaign.created")
    assert (entry.object_type, entry.object_id, entry.actor_id) == ("campaign", campaign.public_id, ops.pk)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"kind": CouponKind.PERCENT_OFF, "percent_off_bp": "500", "percent_cap_fen": "0"},
            "percent_cap_fen",
            "A percentage coupon needs a cap.",
        ),
        (
            {"kind": CouponKind.PAID_MULTIPLIER, "price_fen": "0"},
            "price_fen",
            "A paid coupon needs a price.",
        ),
        (
            {"kind": CouponKind.MERCHANT_SERVICE, "merchant": ""},
            "merchant",
            "A partner service voucher needs its merchant.",
        ),
        (
            {
                **_moment("starts_at", clock.now() + timedelta(days=5)),
                **_moment("ends_at", clock.now() + timedelta(days=1)),
            },
            "ends_at",
            "Claims must close after they open.",
        ),
        (
            {"budget_count": "", "budget_fen": ""},
            "budget_count",
            "Give a budget in vouchers, in money, or both.",
        ),
        ({"channels": "web, fax"}, "channels", "Unknown channel: fax."),
    ],
    ids=[
        "percent-without-cap",
        "paid-without-price",
        "service-without-merchant",
        "dates-reversed",
        "no-budget",
        "channel",
    ],
)
def test_the_add_form_refuses_bad_input_with_a_message(console, overrides, field: str, message: str) -> None:
    response = console.post(ADD, form_data(**overrides))
    assert errors_of(response)[field] == [message]
    assert message in response.content.decode()
    assert not Campaign.objects.exists() and not AuditEntry.objects.exists()


def test_an_exclusive_campaign_cannot_stack(console) -> None:
    other = make_campaign(name="可叠加券")
    response = console.post(ADD, form_data(exclusive="on", stackable_with=[str(other.pk)]))
    assert errors_of(response)["stackable_with"] == ["An exclusive campaign stacks with nothing."]
    assert Campaign.objects.count() == 1


def test_the_budget_cannot_be_cut_below_what_was_claimed(console) -> None:
    campaign = make_campaign(budget_count=100, claimed_count=40, budget_fen=100_000_00, claimed_fen=80_000_00)
    change = f"/ops/offers/campaign/{campaign.pk}/change/"
    response = console.post(change, form_data(budget_count="39", budget_fen="7999999"))
    errors = errors_of(response)
    assert errors["budget_count"] == ["The budget cannot be below what was already claimed."]
    assert errors["budget_fen"] == ["The budget cannot be below what was already claimed."]
    campaign.refresh_from_db()
    assert (campaign.budget_count, campaign.budget_fen) == (100, 100_000_00)
    # At exactly what was claimed it saves, and the change is audited.
    response = console.post(change, form_data(budget_count="40", budget_fen="8000000"))
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert (campaign.budget_count, campaign.budget_fen) == (40, 80_000_00)
    assert AuditEntry.objects.filter(action="campaign.changed", object_id=campaign.public_id).count() == 1


@pytest.mark.parametrize("who", ["anonymous", "consumer", "dealer_staff", "ops_without_console"])
def test_only_ops_console_users_reach_campaigns(who: str) -> None:
    client = Client()
    if who == "consumer":
        client.force_login(make_consumer())
    elif who == "dealer_staff":
        client.force_login(make_staff(role=Role.DEALER_MANAGER))
    elif who == "ops_without_console":
        client.force_login(make_user(role=Role.OPS))
    for path in (LIST, ADD):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/ops/login/"), path
    assert client.post(ADD, form_data()).status_code == 302
    assert not Campaign.objects.exists()
