"""The payments API: a payer sees their own payment; operations see the reconciliation."""

from __future__ import annotations

import pytest

from .conftest import receive, sandbox_notification

pytestmark = pytest.mark.django_db


def test_the_payer_reads_their_payment(client, payer, intent):
    receive(*sandbox_notification(intent))
    intent.refresh_from_db()
    client.force_login(payer)

    response = client.get(f"/api/v1/payments/{intent.public_id}")

    assert response.status_code == 200
    body = response.json()
    assert body == {
        "id": intent.public_id,
        "purpose": "order.deposit",
        "reference": "FO7K3M9Q2X4T8V",
        "amount": {"amount": 500_000, "currency": "CNY"},
        "refunded": {"amount": 0, "currency": "CNY"},
        "provider": "sandbox",
        "channel": "web",
        "status": "succeeded",
        "created_at": body["created_at"],
        "paid_at": body["paid_at"],
        "expires_at": body["expires_at"],
    }
    assert body["paid_at"] is not None


def test_someone_elses_payment_is_not_found(client, other_payer, intent):
    client.force_login(other_payer)

    response = client.get(f"/api/v1/payments/{intent.public_id}")

    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_an_unknown_payment_is_not_found_and_anonymous_is_401(client, payer, intent):
    assert client.get(f"/api/v1/payments/{intent.public_id}").status_code == 401
    client.force_login(payer)
    assert client.get("/api/v1/payments/pay_NOSUCHPAYMENT00").status_code == 404


def test_operations_read_any_payment_and_the_reconciliation(client, ops, intent):
    client.force_login(ops)

    assert client.get(f"/api/v1/payments/{intent.public_id}").status_code == 200
    response = client.get("/api/v1/ops/payments/reconcile")

    assert response.status_code == 200
    assert response.json() == {"balanced": True, "discrepancies": []}


def test_a_consumer_may_not_read_the_reconciliation(client, payer):
    client.force_login(payer)

    response = client.get("/api/v1/ops/payments/reconcile")

    assert (response.status_code, response.json()["code"]) == (403, "forbidden")
