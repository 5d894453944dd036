import re
from datetime import datetime

import pytest
from django.core.cache import cache
from django.test import Client

from forecourt.accounts.models import OutboxMessage, Role, User
from forecourt.accounts.services import consumer_get_or_create_by_phone
from forecourt.accounts.tests.factories import make_dealer, make_user
from forecourt.core.clock import SHANGHAI

PHONE = "13800138000"
# A fixed moment, mid-morning in Shanghai, so day boundaries are where the tests expect them.
T0 = datetime(2026, 11, 20, 10, 0, 0, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    # Rate-limit counters live in the (process-wide) cache; every test starts with none.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def consumer(db) -> User:
    return consumer_get_or_create_by_phone(phone=PHONE, display_name="张伟")


@pytest.fixture
def dealer(db):
    return make_dealer()


@pytest.fixture
def ops_user(db) -> User:
    return make_user(username="ops-li", role=Role.OPS, is_staff=True)


@pytest.fixture
def sales_advisor(dealer) -> User:
    return make_user(username="sales-wang", role=Role.SALES_ADVISOR, dealer=dealer)


@pytest.fixture
def client() -> Client:
    return Client()


def latest_code(phone_masked: str = "138****8000") -> str:
    """The code in the newest outbox message to this number (the test reads the SMS like a person)."""
    message = OutboxMessage.objects.filter(phone_masked=phone_masked).order_by("-created_at", "-id").first()
    assert message is not None, "no message in the outbox"
    found = re.search(r"(?<!\d)(\d{6})(?!\d)", message.text)
    assert found is not None, message.text
    return found.group(1)
