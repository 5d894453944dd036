"""The accounts API contract: sign-in endpoints, bearer tokens, the profile and consents."""

import hashlib
from datetime import timedelta

import pytest
from django.test import Client

from forecourt.accounts.models import ApiToken, Consent, SmsCode
from forecourt.accounts.services import api_token_issue
from forecourt.accounts.tests.conftest import PHONE, T0, latest_code
from forecourt.accounts.tests.factories import STAFF_PASSWORD
from forecourt.core.clock import advance, frozen_at

pytestmark = pytest.mark.django_db


def _post(client: Client, path: str, body: object | None = None, **headers: str):
    return client.post(
        f"/api/v1{path}", body if body is not None else {}, content_type="application/json", headers=headers
    )


def _sign_in(client: Client) -> dict:
    assert _post(client, "/auth/sms-code", {"phone": PHONE}).status_code == 202
    response = _post(client, "/auth/token", {"phone": PHONE, "code": latest_code()})
    assert response.status_code == 200, response.content
    return response.json()


def test_asking_for_a_code_answers_202(client):
    response = _post(client, "/auth/sms-code", {"phone": "138 0013 8000"})
    assert response.status_code == 202
    assert response.json() == {"sent": True, "expires_in": 300, "resend_after": 60}
    assert SmsCode.objects.count() == 1


def test_asking_for_a_code_without_a_phone_is_a_422_naming_the_field(client):
    response = _post(client, "/auth/sms-code", {})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid"
    assert [detail["field"] for detail in body["details"]] == ["phone"]
    assert SmsCode.objects.count() == 0


def test_asking_for_a_code_for_a_landline_is_a_422(client):
    response = _post(client, "/auth/sms-code", {"phone": "021-12345678"})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_phone"
    assert response.json()["details"] == {"field": "phone"}
    assert SmsCode.objects.count() == 0


def test_asking_again_too_soon_is_a_429_with_retry_after(client):
    with frozen_at(T0):
        _post(client, "/auth/sms-code", {"phone": PHONE})
        advance(timedelta(seconds=20))
        response = _post(client, "/auth/sms-code", {"phone": PHONE})
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    assert response.json()["details"] == {"retry_after": 40}
    assert response["Retry-After"] == "40"


def test_phone_and_code_give_a_bearer_token(client):
    body = _sign_in(client)
    assert set(body) == {"token", "token_type", "expires_at", "user"}
    assert body["token"].startswith("fct_")
    assert body["token_type"] == "Bearer"
    assert body["user"]["phone"] == "138****8000"
    assert body["user"]["role"] == "consumer"
    stored = ApiToken.objects.get()
    assert stored.key_hash == hashlib.sha256(body["token"].encode()).hexdigest()
    assert stored.expires_at - stored.created_at == timedelta(days=30)
    # Signing in through the API records the account terms, given through the API.
    assert Consent.objects.get().method == "api"


def test_a_wrong_code_is_a_401_invalid_credentials(client):
    _post(client, "/auth/sms-code", {"phone": PHONE})
    code = latest_code()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    response = _post(client, "/auth/token", {"phone": PHONE, "code": wrong})
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"
    assert response.json()["details"] == {"attempts_left": 4}
    assert ApiToken.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "phone"),
        ({"phone": PHONE}, "code"),
        ({"code": "123456"}, "phone"),
        ({"username": "ops-li"}, "password"),
        ({"password": "x" * 12}, "username"),
        ({"phone": PHONE, "code": "12345a"}, "code"),
        ({"phone": 13800138000, "code": "123456"}, "phone"),
        ({"phone": PHONE, "code": "123456", "username": "ops-li", "password": "x"}, "username"),
    ],
)
def test_malformed_sign_in_is_a_422_naming_the_field(client, body, field):
    response = _post(client, "/auth/token", body)
    assert response.status_code == 422, response.content
    details = response.json()["details"]
    named = details["field"] if isinstance(details, dict) else details[0]["field"]
    assert named == field
    assert ApiToken.objects.count() == 0


def test_a_non_json_body_is_a_422_not_a_crash(client):
    response = client.post("/api/v1/auth/token", "phone=1", content_type="application/json")
    assert response.status_code in (400, 422)
    assert "code" in response.json()


def test_username_and_password_give_a_token(client, ops_user):
    response = _post(client, "/auth/token", {"username": "ops-li", "password": STAFF_PASSWORD})
    assert response.status_code == 200
    assert response.json()["user"]["role"] == "ops"
    assert response.json()["user"]["phone"] == ""


def test_a_wrong_password_is_a_401_and_the_sixth_try_a_429(client, ops_user):
    with frozen_at(T0):
        for _try in range(5):
            response = _post(client, "/auth/token", {"username": "ops-li", "password": "wrong-password"})
            assert response.status_code == 401
            assert response.json()["code"] == "invalid_credentials"
        response = _post(client, "/auth/token", {"username": "ops-li", "password": STAFF_PASSWORD})
    assert response.status_code == 429
    assert response.json()["details"] == {"retry_after": 900}
    assert response["Retry-After"] == "900"
    assert ApiToken.objects.count() == 0


def test_me_with_a_bearer_token_shows_the_masked_phone(client):
    token = _sign_in(client)["token"]
    response = Client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    body = response.json()
    assert body["phone"] == "138****8000"
    assert body["role"] == "consumer"
    assert body["id"].startswith("usr_")
    assert body["dealer"] is None
    assert "13800138000" not in response.content.decode()


def test_me_shows_a_staff_members_dealer(client, sales_advisor, dealer):
    raw, _token = api_token_issue(user=sales_advisor)
    body = client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"}).json()
    assert body["dealer"] == {"id": dealer.public_id, "name": dealer.name}
    assert body["role"] == "sales_advisor"


def test_me_without_credentials_is_a_401(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize("header", ["Bearer fct_not-a-real-token", "Bearer ", "Token abc", "Basic b3BzOng="])
def test_an_unknown_token_is_a_401(client, header):
    response = client.get("/api/v1/me", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


def test_a_revoked_token_is_a_401(client):
    token = _sign_in(client)["token"]
    auth = {"Authorization": f"Bearer {token}"}
    response = _post(Client(), "/auth/token/revoke", **auth)
    assert response.status_code == 200
    assert response.json() == {"revoked": True}
    assert ApiToken.objects.get().revoked_at is not None
    response = Client().get("/api/v1/me", headers=auth)
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


def test_an_expired_token_is_a_401(client, consumer):
    with frozen_at(T0):
        raw, _token = api_token_issue(user=consumer)
        advance(timedelta(days=30))
        response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 401


def test_using_a_token_marks_when_it_was_last_used(client, consumer):
    with frozen_at(T0):
        raw, token = api_token_issue(user=consumer)
        advance(timedelta(minutes=3))
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    token.refresh_from_db()
    assert token.last_used_at == T0 + timedelta(minutes=3)


def test_a_disabled_persons_token_is_a_401(client, consumer):
    raw, _token = api_token_issue(user=consumer)
    consumer.is_active = False
    consumer.save()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"}).status_code == 401


def test_revoke_without_a_token_is_a_400(client, consumer):
    client.force_login(consumer)
    response = _post(client, "/auth/token/revoke")
    assert response.status_code == 400
    assert response.json()["code"] == "no_token"


def test_the_session_works_for_reads(client, consumer):
    client.force_login(consumer)
    assert client.get("/api/v1/me").json()["phone"] == "138****8000"


def test_a_session_post_without_the_csrf_token_is_refused(consumer):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(consumer)
    response = _post(browser, "/me/consents/marketing")
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"
    assert not Consent.objects.filter(purpose="marketing").exists()


def test_a_session_post_with_the_csrf_token_is_accepted(consumer):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(consumer)
    browser.get("/account/")  # sets the CSRF cookie, as any page does
    token = browser.cookies["csrftoken"].value
    response = _post(browser, "/me/consents/marketing", **{"X-CSRFToken": token})
    assert response.status_code == 200
    assert response.json()["active"] is True


def test_a_bearer_post_needs_no_csrf_token(consumer):
    raw, _token = api_token_issue(user=consumer)
    response = _post(
        Client(enforce_csrf_checks=True), "/me/consents/marketing", Authorization=f"Bearer {raw}"
    )
    assert response.status_code == 200


def test_consents_list_every_purpose_with_text_and_history(client, consumer):
    client.force_login(consumer)
    body = client.get("/api/v1/me/consents").json()
    assert [entry["purpose"] for entry in body["consents"]] == [
        "account_terms",
        "marketing",
        "share_with_dealer",
    ]
    assert all(entry["active"] is False and entry["latest"] is None for entry in body["consents"])
    assert body["consents"][1]["current_version"] == "marketing-2026-10"
    assert body["consents"][1]["text"]


def test_grant_withdraw_and_grant_again_keep_the_history(client, consumer):
    client.force_login(consumer)
    with frozen_at(T0):
        granted = _post(client, "/me/consents/marketing").json()
        advance(timedelta(hours=1))
        withdrawn = _post(client, "/me/consents/marketing/withdraw").json()
        advance(timedelta(hours=1))
        again = _post(client, "/me/consents/marketing", {"text_version": "marketing-2026-10"}).json()
    assert granted["active"] is True
    assert granted["latest"]["method"] == "api"
    assert withdrawn["active"] is False
    assert withdrawn["latest"]["withdrawal_method"] == "api"
    assert withdrawn["latest"]["withdrawn_at"] is not None
    assert again["active"] is True
    assert len(again["history"]) == 2
    assert again["history"][1]["withdrawn_at"] is not None
    assert Consent.objects.filter(user=consumer, purpose="marketing").count() == 2


def test_an_unknown_purpose_is_a_404(client, consumer):
    client.force_login(consumer)
    assert _post(client, "/me/consents/telepathy").status_code == 404
    assert _post(client, "/me/consents/telepathy/withdraw").status_code == 404
    assert Consent.objects.count() == 0


def test_withdrawing_what_was_never_given_is_a_404(client, consumer):
    client.force_login(consumer)
    response = _post(client, "/me/consents/marketing/withdraw")
    assert response.status_code == 404
    assert Consent.objects.count() == 0


def test_granting_an_unknown_text_version_is_a_422(client, consumer):
    client.force_login(consumer)
    response = _post(client, "/me/consents/marketing", {"text_version": "marketing-1999"})
    assert response.status_code == 422
    assert response.json()["details"] == {"field": "text_version"}
    assert Consent.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "ops\u0000li", "password": "x" * 12}, "username"),
        ({"phone": "1380013800\u0000", "code": "123456"}, "phone"),
        ({"phone": PHONE, "code": "12345\u0000"}, "code"),
    ],
)
def test_nul_characters_are_a_422_not_a_crash(client, body, field):
    response = _post(client, "/auth/token", body)
    assert response.status_code == 422
    assert response.json()["details"] == {"field": field}
