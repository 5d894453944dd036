"""Sign-in codes: 6 digits, valid 5 minutes, 5 tries, resend limits per number and per address."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import translation

from forecourt.accounts.errors import AccountsErrorCode
from forecourt.accounts.models import (
    Consent,
    ConsentPurpose,
    OutboxMessage,
    Role,
    SignInFailure,
    SmsCode,
    User,
)
from forecourt.accounts.services import sms_code_request, sms_code_verify
from forecourt.accounts.tests.conftest import PHONE, T0, latest_code
from forecourt.core.clock import advance, frozen_at
from forecourt.core.errors import DomainError, RateLimited
from forecourt.core.models import AuditEntry, Event
from forecourt.core.phones import InvalidPhone, phone_hash

pytestmark = pytest.mark.django_db
IP = "203.0.113.7"


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_request_texts_a_six_digit_code_valid_five_minutes():
    with frozen_at(T0), translation.override("en"):
        sms_code_request(phone="+86 138-0013-8000", ip=IP)
    message = OutboxMessage.objects.get()
    code = latest_code()
    assert message.text == (
        f"[Forecourt] Your sign-in code is {code}. It is valid for 5 minutes. Do not share it with anyone."
    )
    assert message.phone_masked == "138****8000"
    assert message.purpose == "sign_in_code"
    stored = SmsCode.objects.get()
    assert stored.phone_hash == phone_hash("+8613800138000")
    assert stored.created_at == T0
    assert stored.expires_at == T0 + timedelta(minutes=5)
    assert stored.attempts == 0
    assert stored.consumed_at is None
    assert stored.requested_ip == IP


def test_code_is_kept_only_as_a_keyed_hash():
    with frozen_at(T0):
        sms_code_request(phone=PHONE, ip=IP)
    code = latest_code()
    stored = SmsCode.objects.get()
    assert code not in stored.code_hash
    assert len(stored.code_hash) == 64


def test_request_for_a_malformed_number_is_refused_and_sends_nothing():
    with pytest.raises(InvalidPhone) as raised:
        sms_code_request(phone="1234", ip=IP)
    assert raised.value.status == 422
    assert raised.value.details == {"field": "phone"}
    assert SmsCode.objects.count() == 0
    assert OutboxMessage.objects.count() == 0


def test_code_is_accepted_just_before_five_minutes():
    with frozen_at(T0):
        sms_code_request(phone=PHONE, ip=IP)
        code = latest_code()
        advance(timedelta(seconds=299))
        user = sms_code_verify(phone=PHONE, code=code, ip=IP)
    assert user.role == Role.CONSUMER


def test_code_expires_at_five_minutes():
    with frozen_at(T0):
        sms_code_request(phone=PHONE, ip=IP)
        code = latest_code()
        advance(timedelta(minutes=5))
        with pytest.raises(DomainError) as raised:
            sms_code_verify(phone=PHONE, code=code, ip=IP)
    assert raised.value.code == AccountsErrorCode.CODE_EXPIRED
    assert raised.value.status == 401
    assert User.objects.count() == 0
    assert SmsCode.objects.get().consumed_at is None


def test_five_wrong_tries_kill_the_code():
    with frozen_at(T0):
        sms_code_request(phone=PHONE, ip=IP)
        code = latest_code()
        left = []
        for _try in range(5):
            with pytest.raises(DomainError) as raised:
                sms_code_verify(phone=PHONE, code=_wrong(code), ip=IP)
            assert raised.value.code == AccountsErrorCode.INVALID_CREDENTIALS
            left.append(raised.value.details["attempts_left"])
        with pytest.raises(DomainError) as raised:
            sms_code_verify(phone=PHONE, code=code, ip=IP)
    assert left == [4, 3, 2, 1, 0]
    assert raised.value.code == AccountsErrorCode.CODE_EXHAUSTED
    assert SmsCode.objects.get().attempts == 5
    assert User.objects.count() == 0
    assert not Event.objects.filter(name="account.signed_in").exists()


def test_the_fifth_try_may_be_the_right_one():
    with frozen_at(T0):
        sms_code_request(phone=PHONE, ip=IP)
        code = latest_code()
        for _try in range(4):
            with pytest.raises(DomainError):
                sms_code_verify(phone=PHONE, code=_wrong(code), ip=IP)
        user = sms_code_verify(phone=PHONE, code=code, ip=IP)
    assert user.phone_hash == phone_hash("+8613800138000")
    assert SmsCode.objects.get().attempts == 5


def test_a_code_signs_in_only_once():
    with frozen_at(T0):
        sms_code_request(phone=PHONE, ip=IP)
        code = latest_code()
        sms_code_verify(phone=PHONE, code=code, ip=IP)
        with pytest.raises(DomainError) as raised:
            sms_code_verify(phone=PHONE, code=code, ip=IP)
    assert raised.value.code == AccountsErrorCode.INVALID_CREDENTIALS
    assert Event.objects.filter(name="account.signed_in").count() == 1


def test_a_resend_within_sixty_seconds_is_refused():
    with frozen_at(T0):
        sms_code_request(phone=PHONE, ip=IP)
        advance(timedelta(seconds=59))
        with pytest.raises(RateLimited) as raised:
            sms_code_request(phone=PHONE, ip=IP)
        assert raised.value.retry_after == 1
        assert raised.value.status == 429
        assert SmsCode.objects.count() == 1
        advance(timedelta(seconds=1))
        sms_code_request(phone=PHONE, ip=IP)
    assert SmsCode.objects.count() == 2
    assert OutboxMessage.objects.count() == 2


def test_a_new_code_replaces_the_earlier_one():
    with frozen_at(T0):
        sms_code_request(phone=PHONE, ip=IP)
        first = latest_code()
        advance(timedelta(seconds=60))
        sms_code_request(phone=PHONE, ip=IP)
        second = latest_code()
        if first != second:
            with pytest.raises(DomainError) as raised:
                sms_code_verify(phone=PHONE, code=first, ip=IP)
            assert raised.value.code == AccountsErrorCode.INVALID_CREDENTIALS
        user = sms_code_verify(phone=PHONE, code=second, ip=IP)
    assert user.role == Role.CONSUMER
    older = SmsCode.objects.order_by("created_at")[0]
    assert older.superseded_at == T0 + timedelta(seconds=60)
    assert older.consumed_at is None


def test_the_eleventh_code_of_a_day_is_refused_until_midnight():
    with frozen_at(T0):
        for _n in range(10):
            sms_code_request(phone=PHONE, ip=IP)
            advance(timedelta(seconds=60))
        with pytest.raises(RateLimited) as raised:
            sms_code_request(phone=PHONE, ip=IP)
        # T0 + 10 minutes is 10:10 in Shanghai: 13 h 50 min to midnight.
        assert raised.value.retry_after == 13 * 3600 + 50 * 60
        assert SmsCode.objects.count() == 10
        advance(timedelta(seconds=raised.value.retry_after))
        sms_code_request(phone=PHONE, ip=IP)
    assert SmsCode.objects.count() == 11


def test_one_address_may_ask_for_twenty_codes_an_hour():
    with frozen_at(T0):
        for n in range(20):
            sms_code_request(phone=f"139{n:08d}", ip=IP)
        with pytest.raises(RateLimited):
            sms_code_request(phone="13900000099", ip=IP)
        # Another address is not affected.
        sms_code_request(phone="13900000099", ip="198.51.100.1")
    assert SmsCode.objects.count() == 21


def test_first_sign_in_creates_a_consumer_with_a_random_username_and_records_terms():
    with frozen_at(T0):
        sms_code_request(phone=PHONE, ip=IP)
        user = sms_code_verify(phone=PHONE, code=latest_code(), ip=IP)
    assert user.role == Role.CONSUMER
    assert user.username == user.public_id
    assert user.username.startswith("usr_")
    assert "13800138000" not in user.username
    assert not user.has_usable_password()
    assert user.masked_phone == "138****8000"
    assert user.last_login == T0
    terms = Consent.objects.get(user=user)
    assert (terms.purpose, terms.text_version, terms.method, terms.granted_at, terms.ip_address) == (
        ConsentPurpose.ACCOUNT_TERMS,
        "terms-2026-10",
        "web",
        T0,
        IP,
    )
    signed_in = Event.objects.get(name="account.signed_in")
    assert signed_in.subject_id == user.public_id
    assert signed_in.payload == {"method": "sms", "role": "consumer", "new_account": True}
    assert Event.objects.filter(name="account.created", subject_id=user.public_id).count() == 1
    audit = AuditEntry.objects.get(action="account.signed_in")
    assert (audit.actor_id, audit.object_id, audit.ip_address, audit.details) == (
        user.pk,
        user.public_id,
        IP,
        {"method": "sms"},
    )


def test_a_later_sign_in_finds_the_same_person_and_records_no_new_consent():
    with frozen_at(T0):
        sms_code_request(phone=PHONE, ip=IP)
        first = sms_code_verify(phone=PHONE, code=latest_code(), ip=IP)
        advance(timedelta(minutes=2))
        sms_code_request(phone="+86 13800138000", ip=IP)
        again = sms_code_verify(phone="138 0013 8000", code=latest_code(), ip=IP)
    assert again.pk == first.pk
    assert User.objects.count() == 1
    assert Consent.objects.count() == 1
    assert Event.objects.get(name="account.signed_in", payload__new_account=False).actor_id == first.pk


def test_a_malformed_code_is_a_422_naming_the_field():
    with pytest.raises(DomainError) as raised:
        sms_code_verify(phone=PHONE, code="12ab56", ip=IP)
    assert (raised.value.status, raised.value.details) == (422, {"field": "code"})
    assert SignInFailure.objects.count() == 0


def test_a_code_without_any_request_is_refused():
    with pytest.raises(DomainError) as raised:
        sms_code_verify(phone=PHONE, code="123456", ip=IP)
    assert raised.value.code == AccountsErrorCode.INVALID_CREDENTIALS
    assert raised.value.status == 401
    assert User.objects.count() == 0


def test_a_staff_number_cannot_sign_in_by_sms(sales_advisor):
    from forecourt.core.phones import encrypt_phone

    sales_advisor.phone_hash = phone_hash("+8613800138000")
    sales_advisor.phone_encrypted = encrypt_phone("+8613800138000")
    sales_advisor.save()
    with frozen_at(T0):
        sms_code_request(phone=PHONE, ip=IP)
        with pytest.raises(DomainError) as raised:
            sms_code_verify(phone=PHONE, code=latest_code(), ip=IP)
    assert raised.value.code == AccountsErrorCode.PASSWORD_REQUIRED
    assert SmsCode.objects.get().consumed_at is None
    assert not Event.objects.filter(name="account.signed_in").exists()


def test_repeated_failures_from_one_address_are_throttled():
    with frozen_at(T0):
        for n in range(20):
            with pytest.raises(DomainError):
                sms_code_verify(phone=f"139{n:08d}", code="000000", ip=IP)
        with pytest.raises(RateLimited) as raised:
            sms_code_verify(phone=PHONE, code="000000", ip=IP)
    assert raised.value.retry_after == 15 * 60


class _BrokenSender:
    def send(self, *, phone_e164: str, text: str, purpose: str) -> None:
        raise ConnectionError("provider down")


def test_a_failing_sender_is_a_503_not_a_crash(settings):
    settings.SMS_SENDER = "forecourt.accounts.tests.test_sms_codes._BrokenSender"
    with pytest.raises(DomainError) as raised:
        sms_code_request(phone=PHONE, ip=IP)
    assert (raised.value.code, raised.value.status) == (AccountsErrorCode.SMS_UNAVAILABLE, 503)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_tries_with_the_right_code_sign_in_exactly_once():
    if connection.vendor != "postgresql":
        pytest.skip("proves a row-level race that only PostgreSQL can show")
    sms_code_request(phone=PHONE, ip=IP)
    code = latest_code()
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def attempt() -> None:
        try:
            barrier.wait(timeout=10)
            outcomes.append(sms_code_verify(phone=PHONE, code=code, ip=IP))
        except DomainError as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    users = [outcome for outcome in outcomes if isinstance(outcome, User)]
    refusals = [outcome for outcome in outcomes if not isinstance(outcome, User)]
    assert len(users) == 1
    assert refusals == [AccountsErrorCode.INVALID_CREDENTIALS]
    stored = SmsCode.objects.get()
    assert stored.consumed_at is not None
    assert stored.attempts == 1
    assert User.objects.count() == 1
    assert Event.objects.filter(name="account.signed_in").count() == 1


def test_a_code_typed_in_full_width_digits_is_accepted():
    with frozen_at(T0):
        sms_code_request(phone=PHONE, ip=IP)
        full_width = latest_code().translate(str.maketrans("0123456789", "０１２３４５６７８９"))
        user = sms_code_verify(phone=PHONE, code=f" {full_width} ", ip=IP)
    assert user.role == Role.CONSUMER
