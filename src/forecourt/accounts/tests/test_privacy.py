"""PIPL: after signing in, no table holds the plain number, and no log line holds the number or the code."""

import json
import logging

import pytest
from django.apps import apps
from django.core.cache import cache
from django.test import Client

from forecourt.accounts.models import OutboxMessage, SmsCodeGate, User
from forecourt.accounts.tests.conftest import PHONE, latest_code
from forecourt.core.ratelimit import rate_limits_clear

pytestmark = pytest.mark.django_db
SPELLINGS = (PHONE, "+86" + PHONE, "138 0013 8000", "138-0013-8000")


def _sign_in_every_way(client: Client) -> list[str]:
    """Sign in through the API and through the page, with a wrong try on the way; return the codes."""
    codes = []
    client.post("/api/v1/auth/sms-code", {"phone": "+86 138-0013-8000"}, content_type="application/json")
    codes.append(latest_code())
    wrong = f"{(int(codes[-1]) + 1) % 1_000_000:06d}"
    client.post("/api/v1/auth/token", {"phone": PHONE, "code": wrong}, content_type="application/json")
    response = client.post(
        "/api/v1/auth/token", {"phone": PHONE, "code": codes[-1]}, content_type="application/json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    client.post(
        "/api/v1/me/consents/marketing",
        {},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    rate_limits_clear()  # the page asks for a second code from the same address within the minute's limit
    SmsCodeGate.objects.update(last_sent_at=None)
    page = Client()
    page.post("/account/sign-in/send-code/", {"phone": PHONE})
    codes.append(latest_code())
    response = page.post("/account/sign-in/", {"method": "sms", "phone": PHONE, "code": codes[-1]})
    assert response.status_code == 302
    page.get("/account/")
    return codes


def _stored_text(value: object) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else str(value)


def test_no_table_holds_the_plain_phone_number_after_sign_in(client):
    codes = _sign_in_every_way(client)
    assert User.objects.filter(role="consumer").count() == 1
    scanned = 0
    for model in apps.get_models():
        columns = [field.attname for field in model._meta.concrete_fields]
        for row in model._default_manager.values_list(*columns):
            for column, value in zip(columns, row, strict=True):
                text = _stored_text(value)
                scanned += 1
                for spelling in SPELLINGS:
                    assert spelling not in text, f"{model._meta.label}.{column} holds the phone number"
                if model is not OutboxMessage:
                    # Only the outbox (the stand-in for the phone network) holds the code's digits.
                    for code in codes:
                        assert code not in text, f"{model._meta.label}.{column} holds the sign-in code"
    assert scanned > 100
    # Rate-limit counters are keyed by address or hash, never by number.
    assert all(PHONE not in str(key) for key in getattr(cache, "_cache", {}))


def test_no_log_line_holds_the_phone_number_or_the_code(client, caplog):
    caplog.set_level(logging.DEBUG)
    codes = _sign_in_every_way(client)
    assert any(record.name.startswith("forecourt.accounts") for record in caplog.records)
    for record in caplog.records:
        parts = [record.getMessage(), record.exc_text or ""]
        parts += [_stored_text(value) for key, value in vars(record).items() if key.startswith("ctx_")]
        line = " ".join(parts)
        for spelling in SPELLINGS:
            assert spelling not in line, line
        for code in codes:
            assert code not in line, line
