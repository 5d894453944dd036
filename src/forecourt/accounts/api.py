"""Accounts API: sign in by SMS code or password for a bearer token; the signed-in person and consents.

Signing in by SMS through the API records agreement to the current account terms for a person who
has not agreed to them yet (as the sign-in page does, where the text and its version are shown):
an app using this API must show that text before it asks for a code.
"""

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema
from pydantic import Field

from forecourt.accounts.auth import api_auth, request_user
from forecourt.accounts.consent_texts import consent_text
from forecourt.accounts.errors import AccountsErrorCode
from forecourt.accounts.models import ApiToken, Consent, ConsentMethod, ConsentPurpose, SmsCode, User
from forecourt.accounts.selectors import ConsentState, consent_states
from forecourt.accounts.services import (
    SMS_RESEND_SECONDS,
    api_token_issue,
    api_token_revoke,
    consent_grant,
    consent_withdraw,
    password_sign_in,
    sms_code_request,
    sms_code_verify,
)
from forecourt.core.errors import CoreErrorCode, DomainError, NotFound
from forecourt.core.middleware import client_ip

router = Router(tags=["accounts"])


class SmsCodeIn(Schema):
    phone: str = Field(max_length=32)


class SmsCodeOut(Schema):
    sent: bool
    expires_in: int
    resend_after: int


class TokenIn(Schema):
    phone: str | None = Field(default=None, max_length=32)
    code: str | None = Field(default=None, max_length=16)
    username: str | None = Field(default=None, max_length=150)
    password: str | None = Field(default=None, max_length=512)


class DealerOut(Schema):
    id: str
    name: str


class UserOut(Schema):
    id: str
    username: str
    display_name: str
    role: str
    role_label: str
    phone: str = Field(description="Masked, e.g. 138****8000; empty when no number is on file.")
    dealer: DealerOut | None
    date_joined: datetime


class TokenOut(Schema):
    token: str
    token_type: str
    expires_at: datetime
    user: UserOut


class RevokeOut(Schema):
    revoked: bool


class ConsentRecordOut(Schema):
    text_version: str
    granted_at: datetime
    method: str
    withdrawn_at: datetime | None
    withdrawal_method: str


class ConsentOut(Schema):
    purpose: str
    label: str
    active: bool
    current_version: str
    text: str = Field(description="The current text of this purpose, in the request's language.")
    latest: ConsentRecordOut | None
    history: list[ConsentRecordOut]


class ConsentsOut(Schema):
    consents: list[ConsentOut]


class ConsentGrantIn(Schema):
    text_version: str | None = Field(default=None, max_length=40)


def _user_out(user: User) -> dict[str, Any]:
    dealer = user.dealer
    return {
        "id": user.public_id,
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "role_label": str(user.get_role_display()),
        "phone": user.masked_phone,
        "dealer": {"id": dealer.public_id, "name": dealer.name} if dealer is not None else None,
        "date_joined": user.date_joined,
    }


def _record_out(record: Consent) -> dict[str, Any]:
    return {
        "text_version": record.text_version,
        "granted_at": record.granted_at,
        "method": record.method,
        "withdrawn_at": record.withdrawn_at,
        "withdrawal_method": record.withdrawal_method,
    }


def _consent_out(state: ConsentState) -> dict[str, Any]:
    return {
        "purpose": state.purpose,
        "label": state.label,
        "active": state.is_active,
        "current_version": state.current_version,
        "text": str(consent_text(state.purpose, state.current_version) or ""),
        "latest": _record_out(state.latest) if state.latest is not None else None,
        "history": [_record_out(record) for record in state.history],
    }


def _state_for(user: User, purpose: str) -> dict[str, Any]:
    return next(_consent_out(state) for state in consent_states(user=user) if state.purpose == purpose)


def _check_purpose(purpose: str) -> str:
    # Purposes are the codes in a URL: an unknown one is a 404 like any unknown code.
    if purpose not in ConsentPurpose.values:
        raise NotFound(_("Unknown consent purpose."))
    return purpose


def _missing(field: str) -> DomainError:
    return DomainError(
        CoreErrorCode.INVALID,
        _("The request is not valid."),
        status=422,
        details=[{"field": field, "message": _("This field is required.")}],
    )


@router.post("/auth/sms-code", response={202: SmsCodeOut}, auth=None, summary="Text a sign-in code")
def request_sms_code(request: HttpRequest, payload: SmsCodeIn) -> tuple[int, dict[str, Any]]:
    sms_code_request(phone=payload.phone, ip=client_ip(request))
    return 202, {"sent": True, "expires_in": SmsCode.VALID_SECONDS, "resend_after": SMS_RESEND_SECONDS}


@router.post("/auth/token", response=TokenOut, auth=None, summary="Sign in for a bearer token")
def issue_token(request: HttpRequest, payload: TokenIn) -> dict[str, Any]:
    """Send `{"phone", "code"}` (consumers) or `{"username", "password"}` (staff).

    The first sign-in by SMS creates the consumer's account. Signing in by SMS records agreement to
    the current account terms (`GET /me/consents` gives the text and version) for a person who has
    not yet agreed to them: show that text before asking for a code. The token is valid for 30 days
    and is shown only in this answer.
    """
    by_code = payload.phone is not None or payload.code is not None
    by_password = payload.username is not None or payload.password is not None
    if by_code and by_password:
        raise DomainError(
            CoreErrorCode.INVALID,
            _("Send either a phone number and code, or a username and password, not both."),
            status=422,
            details=[{"field": "username", "message": _("Not allowed with a phone number and code.")}],
        )
    ip = client_ip(request)
    if by_password:
        if not payload.username:
            raise _missing("username")
        if not payload.password:
            raise _missing("password")
        user = password_sign_in(username=payload.username, password=payload.password, ip=ip)
    else:
        if not payload.phone:
            raise _missing("phone")
        if not payload.code:
            raise _missing("code")
        user = sms_code_verify(phone=payload.phone, code=payload.code, ip=ip, channel=ConsentMethod.API)
    raw, token = api_token_issue(user=user, ip=ip)
    return {"token": raw, "token_type": "Bearer", "expires_at": token.expires_at, "user": _user_out(user)}


@router.post("/auth/token/revoke", response=RevokeOut, auth=api_auth, summary="Revoke this bearer token")
def revoke_token(request: HttpRequest) -> dict[str, Any]:
    token: ApiToken | None = getattr(request, "api_token", None)
    if token is None:
        raise DomainError(
            AccountsErrorCode.NO_TOKEN,
            _("Send the token to revoke in the Authorization header."),
            status=400,
        )
    api_token_revoke(token=token, actor=request_user(request))
    return {"revoked": True}


@router.get("/me", response=UserOut, auth=api_auth, summary="The signed-in person")
def me(request: HttpRequest) -> dict[str, Any]:
    return _user_out(request_user(request))


@router.get("/me/consents", response=ConsentsOut, auth=api_auth, summary="My consents and their history")
def my_consents(request: HttpRequest) -> dict[str, Any]:
    return {"consents": [_consent_out(state) for state in consent_states(user=request_user(request))]}


@router.post(
    "/me/consents/{purpose}/withdraw", response=ConsentOut, auth=api_auth, summary="Withdraw a consent"
)
def withdraw_consent(request: HttpRequest, purpose: str) -> dict[str, Any]:
    user = request_user(request)
    consent_withdraw(
        user=user, purpose=_check_purpose(purpose), method=ConsentMethod.API, ip=client_ip(request)
    )
    return _state_for(user, purpose)


@router.post("/me/consents/{purpose}", response=ConsentOut, auth=api_auth, summary="Give a consent")
def grant_consent(
    request: HttpRequest, purpose: str, payload: ConsentGrantIn | None = None
) -> dict[str, Any]:
    user = request_user(request)
    consent_grant(
        user=user,
        purpose=_check_purpose(purpose),
        method=ConsentMethod.API,
        text_version=payload.text_version if payload is not None else None,
        ip=client_ip(request),
    )
    return _state_for(user, purpose)
