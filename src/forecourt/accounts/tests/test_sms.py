"""Text messages go through the configured sender; the default keeps them in the local outbox."""

import pytest

from forecourt.accounts.models import OutboxMessage
from forecourt.accounts.services import sms_send
from forecourt.core.phones import InvalidPhone, decrypt_phone, phone_hash

pytestmark = pytest.mark.django_db
sent: list[dict[str, str]] = []


class RecordingSender:
    def send(self, *, phone_e164: str, text: str, purpose: str) -> None:
        sent.append({"phone_e164": phone_e164, "text": text, "purpose": purpose})


def test_the_outbox_sender_keeps_hash_ciphertext_and_mask():
    sms_send(phone="+86 139-0013-9000", text="您的试驾已确认", purpose="appointment")
    message = OutboxMessage.objects.get()
    assert message.phone_hash == phone_hash("+8613900139000")
    assert decrypt_phone(message.phone_encrypted) == "+8613900139000"
    assert message.phone_masked == "139****9000"
    assert (message.text, message.purpose) == ("您的试驾已确认", "appointment")


def test_the_sender_is_chosen_by_setting_and_gets_the_normalised_number(settings):
    settings.SMS_SENDER = "forecourt.accounts.tests.test_sms.RecordingSender"
    sent.clear()
    sms_send(phone="0086 13900139000", text="hello", purpose="test")
    assert sent == [{"phone_e164": "+8613900139000", "text": "hello", "purpose": "test"}]
    assert OutboxMessage.objects.count() == 0


def test_a_bad_number_sends_nothing():
    with pytest.raises(InvalidPhone):
        sms_send(phone="400-820-8820", text="x", purpose="test")
    assert OutboxMessage.objects.count() == 0
