"""Staff sign in with a password (Argon2 in production); failed logins are throttled."""

from datetime import timedelta

import pytest

from forecourt.accounts.errors import AccountsErrorCode
from forecourt.accounts.models import SignInFailure
from forecourt.accounts.services import password_sign_in
from forecourt.accounts.tests.conftest import T0
from forecourt.accounts.tests.factories import STAFF_PASSWORD, make_user
from forecourt.core.clock import advance, frozen_at
from forecourt.core.errors import DomainError, RateLimited
from forecourt.core.models import AuditEntry, Event

pytestmark = pytest.mark.django_db
IP = "198.51.100.20"


def test_the_right_password_signs_in_and_is_recorded(ops_user):
    with frozen_at(T0):
        user = password_sign_in(username="ops-li", password=STAFF_PASSWORD, ip=IP)
    assert user.pk == ops_user.pk
    assert user.last_login == T0
    assert Event.objects.get(name="account.signed_in").payload == {
        "method": "password",
        "role": "ops",
        "new_account": False,
    }
    assert AuditEntry.objects.get(action="account.signed_in").ip_address == IP


def test_a_wrong_password_is_invalid_credentials_and_recorded(ops_user):
    with pytest.raises(DomainError) as raised:
        password_sign_in(username="ops-li", password="not-the-password", ip=IP)
    assert (raised.value.code, raised.value.status) == (AccountsErrorCode.INVALID_CREDENTIALS, 401)
    failure = SignInFailure.objects.get()
    assert (failure.kind, failure.ip_address) == ("password", IP)
    assert "ops-li" not in failure.subject_hash
    assert not Event.objects.filter(name="account.signed_in").exists()


def test_an_unknown_username_looks_the_same_as_a_wrong_password(db):
    with pytest.raises(DomainError) as raised:
        password_sign_in(username="nobody", password="whatever-password", ip=IP)
    assert raised.value.code == AccountsErrorCode.INVALID_CREDENTIALS


def test_five_failures_block_the_account_for_fifteen_minutes(ops_user):
    with frozen_at(T0):
        for _try in range(5):
            with pytest.raises(DomainError):
                password_sign_in(username="ops-li", password="not-the-password", ip=IP)
            advance(timedelta(seconds=10))
        with pytest.raises(RateLimited) as raised:
            password_sign_in(username="OPS-LI ", password=STAFF_PASSWORD, ip="192.0.2.200")
        # The first failure (at T0) leaves the window at T0 + 15 min; it is now T0 + 50 s.
        assert raised.value.retry_after == 15 * 60 - 50
        advance(timedelta(seconds=raised.value.retry_after))
        user = password_sign_in(username="ops-li", password=STAFF_PASSWORD, ip=IP)
    assert user.pk == ops_user.pk


def test_a_successful_sign_in_forgives_earlier_failures(ops_user):
    with frozen_at(T0):
        for _try in range(4):
            with pytest.raises(DomainError):
                password_sign_in(username="ops-li", password="not-the-password", ip=IP)
        password_sign_in(username="ops-li", password=STAFF_PASSWORD, ip=IP)
        with pytest.raises(DomainError) as raised:
            password_sign_in(username="ops-li", password="not-the-password", ip=IP)
    assert raised.value.code == AccountsErrorCode.INVALID_CREDENTIALS


def test_twenty_failures_from_one_address_block_that_address(ops_user):
    with frozen_at(T0):
        for n in range(20):
            with pytest.raises(DomainError):
                password_sign_in(username=f"guess-{n}", password="not-the-password", ip=IP)
        with pytest.raises(RateLimited):
            password_sign_in(username="ops-li", password=STAFF_PASSWORD, ip=IP)
        # The account itself is not blocked from elsewhere.
        assert password_sign_in(username="ops-li", password=STAFF_PASSWORD, ip="192.0.2.1").pk == ops_user.pk


def test_a_disabled_account_cannot_sign_in(db):
    make_user(username="gone", is_active=False)
    with pytest.raises(DomainError) as raised:
        password_sign_in(username="gone", password=STAFF_PASSWORD, ip=IP)
    assert raised.value.code == AccountsErrorCode.INVALID_CREDENTIALS


def test_consumers_have_no_password_to_sign_in_with(consumer):
    with pytest.raises(DomainError):
        password_sign_in(username=consumer.username, password="", ip=IP)
