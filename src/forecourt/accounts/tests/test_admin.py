"""The ops console pages for people load, and tokens can be revoked there."""

import pytest

from forecourt.accounts.models import ApiToken
from forecourt.accounts.services import api_token_issue, consent_grant, sms_code_request
from forecourt.accounts.tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops_admin(db):
    return make_user(username="root-ops", is_staff=True, is_superuser=True)


@pytest.mark.parametrize("model", ["user", "consent", "outboxmessage", "smscode", "apitoken"])
def test_admin_lists_load(client, ops_admin, consumer, model):
    consent_grant(user=consumer, purpose="account_terms", method="web")
    sms_code_request(phone="13800138000", ip="127.0.0.1")
    api_token_issue(user=consumer)
    client.force_login(ops_admin)
    response = client.get(f"/ops/accounts/{model}/")
    assert response.status_code == 200
    assert "13800138000" not in response.content.decode()


def test_admin_user_page_shows_the_masked_phone(client, ops_admin, consumer):
    client.force_login(ops_admin)
    response = client.get(f"/ops/accounts/user/{consumer.pk}/change/")
    assert response.status_code == 200
    assert "138****8000" in response.content.decode()


def test_admin_revokes_tokens(client, ops_admin, consumer):
    _raw, token = api_token_issue(user=consumer)
    client.force_login(ops_admin)
    response = client.post(
        "/ops/accounts/apitoken/", {"action": "revoke", "_selected_action": [str(token.pk)]}, follow=True
    )
    assert response.status_code == 200
    assert ApiToken.objects.get().revoked_at is not None
