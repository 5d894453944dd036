"""Account pages: sign in by code or password, the account page with consents, sign out, the demo outbox."""

import pytest
from django.test import Client

from forecourt.accounts.models import Consent, OutboxMessage
from forecourt.accounts.services import consent_grant
from forecourt.accounts.tests.conftest import PHONE, latest_code
from forecourt.accounts.tests.factories import STAFF_PASSWORD

pytestmark = pytest.mark.django_db


def test_the_sign_in_page_has_the_fields_browser_tests_rely_on(client):
    response = client.get("/account/sign-in/")
    assert response.status_code == 200
    html = response.content.decode()
    for anchor in ('id="phone"', 'id="code"', 'id="send-code"', 'id="sign-in"', 'id="tab-password"'):
        assert anchor in html
    # The account terms and their version are shown where the person signs in.
    assert "terms-2026-10" in html


def test_the_password_tab_shows_the_staff_form(client):
    html = client.get("/account/sign-in/?method=password").content.decode()
    assert 'id="username"' in html and 'id="password"' in html and 'id="sign-in-password"' in html
    assert 'id="phone"' not in html


def test_send_code_by_htmx_answers_with_the_status_line(client):
    response = client.post("/account/sign-in/send-code/", {"phone": PHONE}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert 'id="code-sent"' in response.content.decode()
    assert OutboxMessage.objects.count() == 1


def test_send_code_for_a_bad_number_shows_the_error_and_sends_nothing(client):
    response = client.post("/account/sign-in/send-code/", {"phone": "12345"})
    assert response.status_code == 200
    assert 'id="code-error"' in response.content.decode()
    assert OutboxMessage.objects.count() == 0


def test_send_code_without_javascript_rerenders_the_form(client):
    response = client.post("/account/sign-in/", {"method": "sms", "phone": PHONE, "action": "send-code"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="code-sent"' in html
    assert f'value="{PHONE}"' in html
    assert OutboxMessage.objects.count() == 1


def test_signing_in_by_code_lands_on_next(client):
    client.post("/account/sign-in/send-code/", {"phone": PHONE})
    response = client.post(
        "/account/sign-in/", {"method": "sms", "phone": PHONE, "code": latest_code(), "next": "/account/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/account/"
    assert client.get("/api/v1/me").json()["phone"] == "138****8000"
    assert Consent.objects.get().method == "web"


def test_signing_in_without_next_lands_home(client):
    client.post("/account/sign-in/send-code/", {"phone": PHONE})
    response = client.post("/account/sign-in/", {"method": "sms", "phone": PHONE, "code": latest_code()})
    assert response["Location"] == "/"


def test_an_offsite_next_is_ignored(client):
    client.post("/account/sign-in/send-code/", {"phone": PHONE})
    response = client.post(
        "/account/sign-in/",
        {"method": "sms", "phone": PHONE, "code": latest_code(), "next": "https://evil.example/steal"},
    )
    assert response["Location"] == "/"


def test_a_wrong_code_shows_the_error_and_does_not_sign_in(client):
    client.post("/account/sign-in/send-code/", {"phone": PHONE})
    wrong = f"{(int(latest_code()) + 1) % 1_000_000:06d}"
    response = client.post("/account/sign-in/", {"method": "sms", "phone": PHONE, "code": wrong})
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_staff_sign_in_with_a_password(client, sales_advisor):
    response = client.post(
        "/account/sign-in/", {"method": "password", "username": "sales-wang", "password": STAFF_PASSWORD}
    )
    assert response.status_code == 302
    assert client.get("/api/v1/me").json()["role"] == "sales_advisor"


def test_staff_without_next_land_on_their_roles_start_page(client, sales_advisor, settings):
    settings.ROLE_HOME_URLS = {"sales_advisor": "accounts:account"}
    response = client.post(
        "/account/sign-in/",
        {"method": "password", "username": "sales-wang", "password": STAFF_PASSWORD, "next": ""},
    )
    assert (response.status_code, response["Location"]) == (302, "/account/")


def test_a_requested_page_wins_over_the_roles_start_page(client, sales_advisor, settings):
    settings.ROLE_HOME_URLS = {"sales_advisor": "accounts:account"}
    response = client.post(
        "/account/sign-in/",
        {"method": "password", "username": "sales-wang", "password": STAFF_PASSWORD, "next": "/dealers/"},
    )
    assert (response.status_code, response["Location"]) == (302, "/dealers/")


def test_a_wrong_password_shows_the_error(client, sales_advisor):
    response = client.post(
        "/account/sign-in/", {"method": "password", "username": "sales-wang", "password": "nope-nope-nope"}
    )
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_page_forms_need_the_csrf_token(consumer):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(consumer)
    response = browser.post("/account/consents/marketing/grant/")
    assert response.status_code == 403
    assert Consent.objects.count() == 0


def test_the_account_page_needs_a_session(client):
    response = client.get("/account/")
    assert response.status_code == 302
    assert response["Location"].startswith("/account/sign-in/?next=/account/")


def test_the_account_page_shows_the_masked_phone_and_consents(client, consumer):
    consent_grant(user=consumer, purpose="account_terms", method="web")
    client.force_login(consumer)
    html = client.get("/account/").content.decode()
    assert "138****8000" in html
    assert "13800138000" not in html
    assert 'id="consent-account_terms" data-active="true"' in html
    assert 'id="consent-marketing" data-active="false"' in html
    assert "terms-2026-10" in html
    assert 'id="withdraw-account_terms"' in html
    assert 'id="grant-marketing"' in html


def test_withdraw_and_grant_from_the_account_page(client, consumer):
    consent_grant(user=consumer, purpose="share_with_dealer", method="in_store")
    client.force_login(consumer)
    response = client.post("/account/consents/share_with_dealer/withdraw/")
    assert response.status_code == 302
    record = Consent.objects.get(purpose="share_with_dealer")
    assert record.withdrawn_at is not None
    assert record.withdrawal_method == "web"
    client.post("/account/consents/marketing/grant/", {"text_version": "marketing-2026-10"})
    assert Consent.objects.get(purpose="marketing").withdrawn_at is None
    html = client.get("/account/").content.decode()
    assert 'id="consent-share_with_dealer" data-active="false"' in html
    assert 'id="consent-marketing" data-active="true"' in html


def test_an_unknown_purpose_on_the_page_is_a_404(client, consumer):
    client.force_login(consumer)
    assert client.post("/account/consents/telepathy/grant/").status_code == 404


def test_sign_out(client, consumer):
    client.force_login(consumer)
    assert client.get("/account/sign-out/").status_code == 200
    response = client.post("/account/sign-out/")
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("path", ["/demo/outbox", "/demo/outbox.json"])
def test_the_outbox_does_not_exist_outside_demo_mode(client, settings, path):
    settings.DEMO_MODE = False
    client.post("/account/sign-in/send-code/", {"phone": PHONE})
    response = client.get(path)
    assert response.status_code == 404
    assert latest_code() not in response.content.decode()


def test_the_outbox_in_demo_mode(client, settings):
    settings.DEMO_MODE = True
    client.post("/account/sign-in/send-code/", {"phone": PHONE})
    code = latest_code()
    html = client.get("/demo/outbox").content.decode()
    assert "138****8000" in html and code in html
    rows = client.get("/demo/outbox.json").json()
    assert len(rows) == 1
    assert rows[0]["phone"] == "138****8000"
    assert code in rows[0]["text"]
    assert set(rows[0]) == {"phone", "text", "purpose", "created_at"}
    assert client.get("/demo/outbox.json?phone=13900000000").json() == []
    assert len(client.get("/demo/outbox.json?phone=+8613800138000").json()) == 1


def test_the_sign_in_page_links_to_the_outbox_only_in_demo_mode(client, settings):
    settings.DEMO_MODE = False
    assert 'id="demo-outbox-link"' not in client.get("/account/sign-in/").content.decode()
    settings.DEMO_MODE = True
    assert 'id="demo-outbox-link"' in client.get("/account/sign-in/").content.decode()


def test_pages_render_in_english_too(client):
    client.cookies["django_language"] = "en"
    html = client.get("/account/sign-in/").content.decode()
    assert "Send code" in html
