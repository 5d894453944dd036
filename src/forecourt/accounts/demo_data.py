"""Demo data for accounts: one login per role, and a few dozen consumers with their consents.

Runs after the dealers' demo data: the dealer staff logins belong to the first dealer.
"""

import random
from datetime import timedelta
from typing import Any

from django.apps import apps
from django.db import transaction

from forecourt.accounts.models import Consent, ConsentMethod, ConsentPurpose, Role, User
from forecourt.accounts.services import consent_grant, consumer_get_or_create_by_phone
from forecourt.core.clock import now
from forecourt.core.demo_people import DEMO_CONSUMER_PHONE, demo_mobile, demo_name

DEMO_PASSWORD = "forecourt-demo"

# (role label, login, how to sign in): printed by `forecourt demo` and listed in the README.
DEMO_LOGINS: list[tuple[str, str, str]] = [
    ("Consumer", DEMO_CONSUMER_PHONE, "SMS code: press 'Send code', read it at /demo/outbox"),
    ("OEM operations", "demo-ops", f"password {DEMO_PASSWORD} (also the ops console at /ops/)"),
    ("Dealer manager", "demo-manager", f"password {DEMO_PASSWORD}"),
    ("Sales advisor", "demo-sales", f"password {DEMO_PASSWORD}"),
    ("Service advisor", "demo-service", f"password {DEMO_PASSWORD}"),
    ("Broker", "demo-broker", f"password {DEMO_PASSWORD}"),
    ("Partner", "demo-partner", f"password {DEMO_PASSWORD}"),
]

# (username, role, display name, is_staff for the ops console)
_STAFF_LOGINS = [
    ("demo-ops", Role.OPS, "运营 周敏", True),
    ("demo-broker", Role.BROKER, "车主经纪人 林浩", False),
    ("demo-partner", Role.PARTNER, "汽车之家 合作方", False),
]
_DEALER_LOGINS = [
    ("demo-manager", Role.DEALER_MANAGER, "店总 王建国"),
    ("demo-sales", Role.SALES_ADVISOR, "销售顾问 李娜"),
    ("demo-service", Role.SERVICE_ADVISOR, "服务顾问 陈磊"),
]

# Real mainland mobile prefixes (China Mobile, Unicom, Telecom).
EXTRA_CONSUMERS = 40


def _name(rng: random.Random) -> str:
    return demo_name(rng)


def _login(
    username: str, role: str, display_name: str, *, dealer: Any = None, is_staff: bool = False
) -> None:
    if User.objects.filter(username=username).exists():
        return
    user = User(
        username=username,
        role=role,
        display_name=display_name,
        dealer=dealer,
        is_staff=is_staff,
        is_superuser=is_staff,
    )
    user.set_password(DEMO_PASSWORD)
    user.save()


def _backdate(user: User, days_ago: int) -> None:
    # Spread sign-up and consent times over the past months, so lists and analytics look lived in.
    joined = now() - timedelta(days=days_ago, minutes=days_ago * 37 % 600)
    User.objects.filter(pk=user.pk).update(date_joined=joined)
    Consent.objects.filter(user=user).update(granted_at=joined)


def seed(*, rng: random.Random) -> None:
    """Create the demo logins (one per role) and about forty consumers with consents."""
    with transaction.atomic():
        for username, role, display_name, is_staff in _STAFF_LOGINS:
            _login(username, role, display_name, is_staff=is_staff)
        # Looked up through the app registry: apps of one layer do not import each other's models.
        dealer = apps.get_model("dealers", "Dealer").objects.order_by("id").first()
        if dealer is not None:
            for username, role, display_name in _DEALER_LOGINS:
                _login(username, role, display_name, dealer=dealer)

        consumer = consumer_get_or_create_by_phone(phone=DEMO_CONSUMER_PHONE, display_name="张伟")
        for purpose in (ConsentPurpose.ACCOUNT_TERMS, ConsentPurpose.SHARE_WITH_DEALER):
            consent_grant(user=consumer, purpose=purpose, method=ConsentMethod.WEB)
        _backdate(consumer, 45)

        seen = {DEMO_CONSUMER_PHONE}
        while len(seen) < EXTRA_CONSUMERS + 1:
            phone = demo_mobile(rng)
            if phone in seen:
                continue
            seen.add(phone)
            person = consumer_get_or_create_by_phone(phone=phone, display_name=_name(rng))
            method = rng.choice(
                [ConsentMethod.WEB, ConsentMethod.WEB, ConsentMethod.API, ConsentMethod.IN_STORE]
            )
            consent_grant(user=person, purpose=ConsentPurpose.ACCOUNT_TERMS, method=method)
            if rng.random() < 0.45:
                consent_grant(user=person, purpose=ConsentPurpose.MARKETING, method=method)
            if rng.random() < 0.6:
                consent_grant(user=person, purpose=ConsentPurpose.SHARE_WITH_DEALER, method=method)
            _backdate(person, rng.randint(1, 240))
