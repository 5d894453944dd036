"""Demo data: one login per role (dealer staff bound to the first dealer) and consumers with consents."""

import random

import pytest

from forecourt.accounts import demo_data
from forecourt.accounts.models import Consent, Role, User
from forecourt.accounts.selectors import consent_is_active, user_find_by_phone
from forecourt.accounts.services import password_sign_in
from forecourt.accounts.tests.factories import make_dealer

pytestmark = pytest.mark.django_db


def test_seed_creates_a_login_for_every_role_and_consumers_with_consents(dealer):
    make_dealer("苏州园区体验店")
    demo_data.seed(rng=random.Random(7))
    for role_label, login, how in demo_data.DEMO_LOGINS:
        assert role_label and how
        if login == demo_data.DEMO_CONSUMER_PHONE:
            continue
        user = password_sign_in(username=login, password=demo_data.DEMO_PASSWORD, ip="127.0.0.1")
        assert user.username == login
    roles = {user.role for user in User.objects.filter(username__startswith="demo-")}
    assert roles == {role.value for role in Role} - {Role.CONSUMER}
    staff = User.objects.filter(
        role__in=["dealer_manager", "sales_advisor", "service_advisor"], username__startswith="demo-"
    )
    # Bound to the first dealer by id, whatever the name order says.
    assert {member.dealer_id for member in staff} == {dealer.pk}
    assert User.objects.get(username="demo-ops").is_staff is True
    assert len(demo_data.DEMO_PASSWORD) >= 10

    # The demo consumer has the account terms and dealer sharing, and has company.
    consumer = user_find_by_phone(phone=demo_data.DEMO_CONSUMER_PHONE)
    assert consumer is not None
    assert consumer.role == Role.CONSUMER
    assert consent_is_active(user=consumer, purpose="account_terms")
    assert consent_is_active(user=consumer, purpose="share_with_dealer")
    assert not consent_is_active(user=consumer, purpose="marketing")
    assert User.objects.filter(role=Role.CONSUMER).count() == 1 + demo_data.EXTRA_CONSUMERS
    assert Consent.objects.filter(purpose="account_terms").count() == 1 + demo_data.EXTRA_CONSUMERS


def test_seed_without_dealers_skips_the_dealer_staff(db):
    demo_data.seed(rng=random.Random(7))
    assert not User.objects.filter(role__in=["dealer_manager", "sales_advisor", "service_advisor"]).exists()
    assert User.objects.filter(username="demo-ops").exists()

    users = User.objects.count()
    demo_data.seed(rng=random.Random(7))
    assert User.objects.count() == users
