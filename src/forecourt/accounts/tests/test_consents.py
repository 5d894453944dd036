"""Consent is a record per purpose: text version, when, how; withdrawal is recorded, never deleted."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy

from forecourt.accounts import consent_texts
from forecourt.accounts.models import Consent, ConsentMethod, ConsentPurpose
from forecourt.accounts.selectors import consent_history, consent_is_active, consent_states
from forecourt.accounts.services import consent_grant, consent_withdraw
from forecourt.accounts.tests.conftest import T0
from forecourt.core.clock import advance, frozen_at
from forecourt.core.errors import DomainError, NotFound
from forecourt.core.models import AuditEntry, Event

pytestmark = pytest.mark.django_db
MARKETING = ConsentPurpose.MARKETING


def test_grant_records_version_time_method_and_address(consumer):
    with frozen_at(T0):
        consent = consent_grant(
            user=consumer, purpose=MARKETING, method=ConsentMethod.IN_STORE, ip="192.0.2.4"
        )
    assert (consent.text_version, consent.granted_at, consent.method, consent.ip_address) == (
        "marketing-2026-10",
        T0,
        "in_store",
        "192.0.2.4",
    )
    assert consent_is_active(user=consumer, purpose=MARKETING) is True
    event = Event.objects.get(name="consent.granted")
    assert event.payload == {
        "purpose": "marketing",
        "text_version": "marketing-2026-10",
        "method": "in_store",
    }
    assert AuditEntry.objects.get(action="consent.granted").object_id == consumer.public_id


def test_granting_twice_changes_nothing(consumer):
    first = consent_grant(user=consumer, purpose=MARKETING, method=ConsentMethod.WEB)
    second = consent_grant(user=consumer, purpose=MARKETING, method=ConsentMethod.API)
    assert second.pk == first.pk
    assert Consent.objects.count() == 1
    assert Event.objects.filter(name="consent.granted").count() == 1


def test_withdrawal_is_recorded_on_the_record_not_deleted(consumer):
    with frozen_at(T0):
        consent_grant(user=consumer, purpose=MARKETING, method=ConsentMethod.WEB)
        advance(timedelta(days=3))
        withdrawn = consent_withdraw(
            user=consumer, purpose=MARKETING, method=ConsentMethod.SMS, ip="192.0.2.9"
        )
    assert Consent.objects.count() == 1
    assert (withdrawn.withdrawn_at, withdrawn.withdrawal_method, withdrawn.withdrawal_ip_address) == (
        T0 + timedelta(days=3),
        "sms",
        "192.0.2.9",
    )
    assert consent_is_active(user=consumer, purpose=MARKETING) is False
    assert Event.objects.get(name="consent.withdrawn").payload["method"] == "sms"
    assert AuditEntry.objects.filter(action="consent.withdrawn").count() == 1


def test_withdrawing_twice_changes_nothing(consumer):
    consent_grant(user=consumer, purpose=MARKETING, method=ConsentMethod.WEB)
    first = consent_withdraw(user=consumer, purpose=MARKETING, method=ConsentMethod.WEB)
    second = consent_withdraw(user=consumer, purpose=MARKETING, method=ConsentMethod.API)
    assert second.withdrawn_at == first.withdrawn_at
    assert second.withdrawal_method == "web"
    assert Event.objects.filter(name="consent.withdrawn").count() == 1


def test_withdrawing_what_was_never_given_is_not_found(consumer):
    with pytest.raises(NotFound):
        consent_withdraw(user=consumer, purpose=MARKETING, method=ConsentMethod.WEB)
    assert not Event.objects.filter(name="consent.withdrawn").exists()


def test_the_latest_record_is_the_current_state(consumer):
    with frozen_at(T0):
        consent_grant(user=consumer, purpose=MARKETING, method=ConsentMethod.WEB)
        advance(timedelta(hours=1))
        consent_withdraw(user=consumer, purpose=MARKETING, method=ConsentMethod.WEB)
        advance(timedelta(hours=1))
        consent_grant(user=consumer, purpose=MARKETING, method=ConsentMethod.API)
    history = list(consent_history(user=consumer, purpose=MARKETING))
    assert [(record.method, record.withdrawn_at is None) for record in history] == [
        ("api", True),
        ("web", False),
    ]
    assert consent_is_active(user=consumer, purpose=MARKETING) is True
    marketing = next(state for state in consent_states(user=consumer) if state.purpose == MARKETING)
    assert marketing.latest == history[0]
    assert marketing.is_active is True


def test_agreeing_to_a_newer_text_closes_the_older_record_as_replaced(consumer, monkeypatch):
    texts = {
        **consent_texts.CONSENT_TEXTS[MARKETING],
        "marketing-2027-01": gettext_lazy("Marketing messages"),
    }
    monkeypatch.setitem(consent_texts.CONSENT_TEXTS, MARKETING, texts)
    with frozen_at(T0):
        old = consent_grant(user=consumer, purpose=MARKETING, method=ConsentMethod.WEB)
        advance(timedelta(days=1))
        new = consent_grant(
            user=consumer, purpose=MARKETING, method=ConsentMethod.WEB, text_version="marketing-2027-01"
        )
    old.refresh_from_db()
    assert (old.withdrawn_at, old.withdrawal_method) == (T0 + timedelta(days=1), "replaced")
    assert new.text_version == "marketing-2027-01"
    assert new.withdrawn_at is None


def test_an_unknown_text_version_is_refused(consumer):
    with pytest.raises(DomainError) as raised:
        consent_grant(user=consumer, purpose=MARKETING, method=ConsentMethod.WEB, text_version="nope")
    assert (raised.value.status, raised.value.details) == (422, {"field": "text_version"})
    assert Consent.objects.count() == 0


@pytest.mark.parametrize(
    ("purpose", "method", "field"), [("spam", "web", "purpose"), ("marketing", "replaced", "method")]
)
def test_unknown_purposes_and_methods_are_refused(consumer, purpose, method, field):
    with pytest.raises(DomainError) as raised:
        consent_grant(user=consumer, purpose=purpose, method=method)
    assert raised.value.details == {"field": field}
    assert Consent.objects.count() == 0


def test_the_database_allows_one_standing_consent_per_purpose(consumer):
    consent_grant(user=consumer, purpose=MARKETING, method=ConsentMethod.WEB)
    with pytest.raises(IntegrityError), transaction.atomic():
        Consent.objects.create(
            user=consumer, purpose=MARKETING, text_version="marketing-2026-10", granted_at=T0, method="web"
        )


def test_every_current_version_has_a_text():
    for purpose in ConsentPurpose.values:
        assert consent_texts.consent_text(purpose, consent_texts.consent_current_version(purpose))
