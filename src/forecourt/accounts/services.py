"""Writes of the accounts app: messages, consumers, consents, API tokens and signing in.

Public services other apps may call: `sms_send`, `consumer_get_or_create_by_phone`, `consent_grant`,
`consent_withdraw` (and the read `consent_is_active`, from selectors, re-exported here).
"""

import hashlib
import ipaddress
import logging
import math
import re
import secrets
import unicodedata
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import authenticate
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from forecourt.accounts.consent_texts import consent_current_version, consent_text
from forecourt.accounts.errors import AccountsErrorCode
from forecourt.accounts.models import (
    ApiToken,
    Consent,
    ConsentMethod,
    ConsentPurpose,
    SignInFailure,
    SmsCode,
    SmsCodeGate,
    SmsCodePurpose,
    User,
    user_public_id,
)
from forecourt.accounts.selectors import consent_is_active, consent_latest
from forecourt.accounts.sms import sms_sender
from forecourt.accounts.throttle import (
    sign_in_failure_record,
    sign_in_failures_clear,
    sign_in_subject_hash,
    sign_in_throttle_check,
)
from forecourt.core.audit import audit_record
from forecourt.core.clock import SHANGHAI, now
from forecourt.core.errors import CoreErrorCode, DomainError, NotFound, RateLimited
from forecourt.core.events import event_record
from forecourt.core.identifiers import numeric_code
from forecourt.core.logging import log_context
from forecourt.core.phones import encrypt_phone, mask_phone, normalise_mainland_mobile, phone_hash
from forecourt.core.ratelimit import rate_limit_hit

__all__ = [
    "api_token_authenticate",
    "api_token_issue",
    "api_token_revoke",
    "consent_grant",
    "consent_is_active",
    "consent_withdraw",
    "consumer_get_or_create_by_phone",
    "password_sign_in",
    "sms_code_request",
    "sms_code_verify",
    "sms_send",
]

logger = logging.getLogger(__name__)

# Resend rules for sign-in codes (the issue's numbers): 60 s apart and 10 a calendar day per number,
# and 20 an hour per IP address.
SMS_RESEND_SECONDS = 60
SMS_DAILY_LIMIT = 10
SMS_IP_HOURLY_LIMIT = 20
SIGN_IN_CODE_PURPOSE = "sign_in_code"
_CODE_FORMAT = re.compile(r"[0-9]{6}")


def _clean_ip(ip: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((ip or "").strip()))
    except ValueError:
        return None


# ---- Text messages -----------------------------------------------------------------------------


def sms_send(*, phone: str, text: str, purpose: str) -> None:
    """Send `text` to a mainland mobile number (any spelling) through the configured SMS sender.

    It sends at once: a caller inside a transaction should call it from `transaction.on_commit`
    (or an event subscriber) so nothing is sent for a change that is rolled back.
    """
    e164 = normalise_mainland_mobile(phone)
    sms_sender().send(phone_e164=e164, text=text, purpose=purpose)
    logger.info("text message handed to the sender", extra=log_context(purpose=purpose, to=mask_phone(e164)))


# ---- People ------------------------------------------------------------------------------------


def consumer_get_or_create_by_phone(*, phone: str, display_name: str = "") -> User:
    """The person with this mobile number, created as a consumer the first time the number is seen."""
    user, _created = _consumer_get_or_create(normalise_mainland_mobile(phone), display_name=display_name)
    return user


def _consumer_get_or_create(e164: str, *, display_name: str = "") -> tuple[User, bool]:
    digest = phone_hash(e164)
    existing = User.objects.filter(phone_hash=digest).first()
    if existing is not None:
        if display_name and not existing.display_name:
            existing.display_name = display_name[:60]
            existing.save(update_fields=["display_name"])
        return existing, False
    identifier = user_public_id()
    # The username is the random public id, never derived from the number.
    user = User(
        public_id=identifier,
        username=identifier,
        role="consumer",
        display_name=display_name[:60],
        phone_hash=digest,
        phone_encrypted=encrypt_phone(e164),
        date_joined=now(),
    )
    user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save()
            event_record(
                "account.created",
                subject_type="user",
                subject_id=user.public_id,
                actor=user,
                payload={"role": user.role},
            )
    except IntegrityError:
        # Another request created the person with this number at the same moment: use theirs.
        return User.objects.get(phone_hash=digest), False
    return user, True


# ---- Consent -----------------------------------------------------------------------------------


def _check_purpose(purpose: str) -> str:
    if purpose not in ConsentPurpose.values:
        raise DomainError(
            CoreErrorCode.INVALID, _("Unknown consent purpose."), status=422, details={"field": "purpose"}
        )
    return purpose


def _check_method(method: str) -> str:
    if method not in ConsentMethod.values or method == ConsentMethod.REPLACED:
        raise DomainError(
            CoreErrorCode.INVALID, _("Unknown consent method."), status=422, details={"field": "method"}
        )
    return method


def _lock_person(user: User) -> None:
    # Every change to one person's consents takes this row lock first, so grants and withdrawals of
    # the same person are applied one at a time (the partial unique constraint backs it up).
    User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True).first()


def _consent_change_record(
    name: str, *, user: User, actor: Any, details: dict[str, Any], ip_address: str | None
) -> None:
    # A consent change is both a domain event (leads react to a withdrawal) and an audited act (PIPL).
    event_record(name, subject_type="user", subject_id=user.public_id, actor=actor or user, payload=details)
    audit_record(
        actor=actor or user,
        action=name,
        object_type="user",
        object_id=user.public_id,
        details=details,
        ip_address=ip_address,
    )


def consent_grant(
    *,
    user: User,
    purpose: str,
    method: str,
    text_version: str | None = None,
    ip: str | None = None,
    actor: Any = None,
) -> Consent:
    """Record that `user` agrees to `purpose` under `text_version` (the current text when None).

    Granting what is already granted under the same version changes nothing and returns that record;
    agreeing to a newer version closes the older record as replaced.
    """
    _check_purpose(purpose)
    _check_method(method)
    version = text_version or consent_current_version(purpose)
    if consent_text(purpose, version) is None:
        raise DomainError(
            AccountsErrorCode.UNKNOWN_TEXT_VERSION,
            _("There is no such version of this consent text."),
            status=422,
            details={"field": "text_version"},
        )
    ip_address = _clean_ip(ip)
    with transaction.atomic():
        _lock_person(user)
        active = Consent.objects.filter(user=user, purpose=purpose, withdrawn_at__isnull=True).first()
        if active is not None and active.text_version == version:
            return active
        moment = now()
        if active is not None:
            active.withdrawn_at = moment
            active.withdrawal_method = ConsentMethod.REPLACED
            active.withdrawal_ip_address = ip_address
            active.save(update_fields=["withdrawn_at", "withdrawal_method", "withdrawal_ip_address"])
        consent = Consent.objects.create(
            user=user,
            purpose=purpose,
            text_version=version,
            granted_at=moment,
            method=method,
            ip_address=ip_address,
        )
        details = {"purpose": purpose, "text_version": version, "method": method}
        _consent_change_record(
            "consent.granted", user=user, actor=actor, details=details, ip_address=ip_address
        )
    return consent


def consent_withdraw(
    *, user: User, purpose: str, method: str, ip: str | None = None, actor: Any = None
) -> Consent:
    """Record that `user` withdraws consent to `purpose`; the record is kept, marked withdrawn.

    Withdrawing what is already withdrawn changes nothing; a purpose never granted is NotFound.
    """
    _check_purpose(purpose)
    _check_method(method)
    ip_address = _clean_ip(ip)
    with transaction.atomic():
        _lock_person(user)
        latest = consent_latest(user=user, purpose=purpose)
        if latest is None:
            raise NotFound(_("There is no consent to withdraw for this purpose."))
        if latest.withdrawn_at is not None:
            return latest
        latest.withdrawn_at = now()
        latest.withdrawal_method = method
        latest.withdrawal_ip_address = ip_address
        latest.save(update_fields=["withdrawn_at", "withdrawal_method", "withdrawal_ip_address"])
        details = {"purpose": purpose, "text_version": latest.text_version, "method": method}
        _consent_change_record(
            "consent.withdrawn", user=user, actor=actor, details=details, ip_address=ip_address
        )
    return latest


# ---- API tokens --------------------------------------------------------------------------------


def api_token_hash(raw: str) -> str:
    # A plain SHA-256 is enough: the token has 256 random bits, so there is nothing to guess.
    return hashlib.sha256(raw.encode()).hexdigest()


def api_token_issue(*, user: User, ip: str | None = None) -> tuple[str, ApiToken]:
    """Create a bearer token for `user`; the returned string is the only time the token is seen."""
    raw = "fct_" + secrets.token_urlsafe(32)
    moment = now()
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            key_hash=api_token_hash(raw),
            created_at=moment,
            expires_at=moment + timedelta(days=ApiToken.VALID_DAYS),
        )
        audit_record(
            actor=user,
            action="api_token.issued",
            object_type="api_token",
            object_id=token.public_id,
            ip_address=_clean_ip(ip),
        )
    return raw, token


def api_token_authenticate(*, raw: str) -> ApiToken | None:
    """The live token for `raw` (its user loaded), or None if unknown, revoked, expired or disabled."""
    if not raw or len(raw) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user", "user__dealer").filter(key_hash=api_token_hash(raw)).first()
    )
    moment = now()
    if (
        token is None
        or token.revoked_at is not None
        or token.expires_at <= moment
        or not token.user.is_active
    ):
        return None
    # At most one write a minute per token: last_used_at helps people review tokens; it is no access log.
    if token.last_used_at is None or moment - token.last_used_at >= timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=moment)
        token.last_used_at = moment
    return token


def api_token_revoke(*, token: ApiToken, actor: Any) -> ApiToken:
    """Revoke `token` for good; revoking a revoked token changes nothing."""
    with transaction.atomic():
        revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now())
        if revoked:
            audit_record(
                actor=actor, action="api_token.revoked", object_type="api_token", object_id=token.public_id
            )
    token.refresh_from_db()
    return token


# ---- Signing in --------------------------------------------------------------------------------


def _code_hash(digest: str, code: str) -> str:
    # Keyed with SECRET_KEY: a 6-digit code has only a million values, so a bare hash would not hide it.
    return salted_hmac("forecourt.accounts.sms-code", f"{digest}:{code}", algorithm="sha256").hexdigest()


def _seconds_to_next_local_midnight(moment: datetime) -> int:
    local = moment.astimezone(SHANGHAI)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), tzinfo=SHANGHAI)
    return max(1, math.ceil((midnight - local).total_seconds()))


def _apply_resend_rules(gate: SmsCodeGate, moment: datetime) -> None:
    if gate.last_sent_at is not None:
        waited = (moment - gate.last_sent_at).total_seconds()
        if waited < SMS_RESEND_SECONDS:
            retry_after = math.ceil(SMS_RESEND_SECONDS - waited)
            raise RateLimited(
                _("Wait %(seconds)d seconds before asking for another code.") % {"seconds": retry_after},
                retry_after=retry_after,
            )
    today = moment.astimezone(SHANGHAI).date()
    if gate.day == today and gate.day_count >= SMS_DAILY_LIMIT:
        raise RateLimited(
            _("This number has had %(count)d codes today. Try again tomorrow.") % {"count": SMS_DAILY_LIMIT},
            retry_after=_seconds_to_next_local_midnight(moment),
        )
    gate.day_count = gate.day_count + 1 if gate.day == today else 1
    gate.day = today
    gate.last_sent_at = moment
    gate.save(update_fields=["day", "day_count", "last_sent_at"])


def sms_code_request(*, phone: str, ip: str) -> None:
    """Text a 6-digit sign-in code to `phone`, within the resend limits for the number and the address.

    The code is valid for 5 minutes and replaces any earlier code for the number.
    """
    e164 = normalise_mainland_mobile(phone)
    ip_address = _clean_ip(ip)
    rate_limit_hit("sms-code-ip", ip_address or "unknown", limit=SMS_IP_HOURLY_LIMIT, window_seconds=3600)
    digest = phone_hash(e164)
    code = numeric_code(SmsCode.LENGTH)
    with transaction.atomic():
        SmsCodeGate.objects.get_or_create(phone_hash=digest)
        # The gate row is locked before the rules are checked: two requests for one number queue here.
        gate = SmsCodeGate.objects.select_for_update().get(phone_hash=digest)
        moment = now()
        _apply_resend_rules(gate, moment)
        SmsCode.objects.filter(
            phone_hash=digest,
            purpose=SmsCodePurpose.SIGN_IN,
            consumed_at__isnull=True,
            superseded_at__isnull=True,
            expires_at__gt=moment,
        ).update(superseded_at=moment)
        SmsCode.objects.create(
            phone_hash=digest,
            code_hash=_code_hash(digest, code),
            purpose=SmsCodePurpose.SIGN_IN,
            created_at=moment,
            expires_at=moment + timedelta(seconds=SmsCode.VALID_SECONDS),
            requested_ip=ip_address,
        )
    text = _(
        "[Forecourt] Your sign-in code is %(code)s. It is valid for 5 minutes. Do not share it with anyone."
    ) % {"code": code}
    try:
        sms_send(phone=e164, text=text, purpose=SIGN_IN_CODE_PURPOSE)
    except Exception as exc:
        logger.error(
            "the SMS sender failed", extra=log_context(purpose=SIGN_IN_CODE_PURPOSE, error=type(exc).__name__)
        )
        raise DomainError(
            AccountsErrorCode.SMS_UNAVAILABLE,
            _("The text message could not be sent. Try again in a minute."),
            status=503,
        ) from None


def _check_code_format(code: str) -> str:
    # NFKC reads full-width digits (typed with a Chinese input method) as the ASCII digits they are.
    cleaned = unicodedata.normalize("NFKC", code).strip() if isinstance(code, str) else ""
    if not _CODE_FORMAT.fullmatch(cleaned):
        raise DomainError(
            CoreErrorCode.INVALID,
            _("Enter the 6-digit code from the text message."),
            status=422,
            details={"field": "code"},
        )
    return cleaned


def _refuse(
    *,
    kind: str,
    subject: str,
    ip: str | None,
    code: str,
    message: str,
    status: int = 401,
    details: Any = None,
) -> DomainError:
    sign_in_failure_record(kind=kind, subject_hash=subject, ip=ip)
    logger.info("sign-in refused", extra=log_context(kind=kind, reason=code))
    return DomainError(code, message, status=status, details=details)


def _signed_in(user: User, *, method: str, ip: str | None, new_account: bool = False) -> None:
    moment = now()
    user.last_login = moment
    user.save(update_fields=["last_login"])
    audit_record(
        actor=user,
        action="account.signed_in",
        object_type="user",
        object_id=user.public_id,
        details={"method": method},
        ip_address=ip,
    )
    event_record(
        "account.signed_in",
        subject_type="user",
        subject_id=user.public_id,
        actor=user,
        dealer_id=user.dealer_id,
        payload={"method": method, "role": user.role, "new_account": new_account},
    )


def sms_code_verify(*, phone: str, code: str, ip: str, channel: str = ConsentMethod.WEB) -> User:
    """Sign a consumer in with the code texted to `phone`; the first sign-in creates the account.

    Signing in records agreement to the current account terms when the person has not agreed to
    them yet: the sign-in page shows that text and its version, and the API takes it implicitly.
    `channel` (web or api) is recorded as how that agreement was given.
    """
    e164 = normalise_mainland_mobile(phone)
    cleaned = _check_code_format(code)
    ip_address = _clean_ip(ip)
    digest = phone_hash(e164)
    kind = SignInFailure.Kind.SMS_CODE
    # Per address only: the per-code limit already caps guesses for one number, and a per-number
    # lock would let anyone lock a stranger out by typing wrong codes for their number.
    sign_in_throttle_check(subject_hash=None, ip=ip_address)
    latest = (
        SmsCode.objects.filter(phone_hash=digest, purpose=SmsCodePurpose.SIGN_IN)
        .order_by("-created_at", "-id")
        .first()
    )
    moment = now()
    not_right = _("The code is not right. Check the latest text message, or ask for a new code.")
    if latest is None:
        raise _refuse(
            kind=kind,
            subject=digest,
            ip=ip_address,
            code=AccountsErrorCode.INVALID_CREDENTIALS,
            message=not_right,
        )
    if latest.consumed_at is not None:
        raise _refuse(
            kind=kind,
            subject=digest,
            ip=ip_address,
            code=AccountsErrorCode.INVALID_CREDENTIALS,
            message=_("This code has already been used. Ask for a new code."),
        )
    if latest.attempts >= SmsCode.MAX_ATTEMPTS:
        raise _refuse(
            kind=kind,
            subject=digest,
            ip=ip_address,
            code=AccountsErrorCode.CODE_EXHAUSTED,
            message=_("Too many wrong tries for this code. Ask for a new code."),
        )
    if latest.expires_at <= moment:
        raise _refuse(
            kind=kind,
            subject=digest,
            ip=ip_address,
            code=AccountsErrorCode.CODE_EXPIRED,
            message=_("This code has expired. Ask for a new code."),
        )
    live = SmsCode.objects.filter(
        pk=latest.pk,
        consumed_at__isnull=True,
        superseded_at__isnull=True,
        attempts__lt=SmsCode.MAX_ATTEMPTS,
        expires_at__gt=moment,
    )
    if not constant_time_compare(latest.code_hash, _code_hash(digest, cleaned)):
        with transaction.atomic():
            live.update(attempts=F("attempts") + 1)
        attempts_left = max(0, SmsCode.MAX_ATTEMPTS - latest.attempts - 1)
        raise _refuse(
            kind=kind,
            subject=digest,
            ip=ip_address,
            code=AccountsErrorCode.INVALID_CREDENTIALS,
            message=not_right,
            details={"attempts_left": attempts_left},
        )
    with transaction.atomic():
        # The conditional UPDATE decides: of two tries with the right code at once, exactly one
        # finds the code unused and consumes it; the other updates no row and is refused.
        if live.update(attempts=F("attempts") + 1, consumed_at=moment) != 1:
            raise DomainError(
                AccountsErrorCode.INVALID_CREDENTIALS,
                _("This code has already been used. Ask for a new code."),
                status=401,
            )
        user, created = _consumer_get_or_create(e164)
        if not user.is_consumer:
            raise DomainError(
                AccountsErrorCode.PASSWORD_REQUIRED,
                _("This number belongs to a staff account: sign in with your username and password."),
                status=401,
            )
        if not user.is_active:
            raise DomainError(AccountsErrorCode.ACCOUNT_DISABLED, _("This account is disabled."), status=403)
        terms_version = consent_current_version(ConsentPurpose.ACCOUNT_TERMS)
        terms = consent_latest(user=user, purpose=ConsentPurpose.ACCOUNT_TERMS)
        if terms is None or terms.withdrawn_at is not None or terms.text_version != terms_version:
            consent_grant(user=user, purpose=ConsentPurpose.ACCOUNT_TERMS, method=channel, ip=ip_address)
        _signed_in(user, method="sms", ip=ip_address, new_account=created)
    return user


def password_sign_in(*, username: str, password: str, ip: str) -> User:
    """Sign a member of staff (or any account with a password) in; failures are throttled."""
    if "\x00" in (username or ""):
        # No username contains NUL, and PostgreSQL refuses it in a query: a malformed field, not a 500.
        raise DomainError(
            CoreErrorCode.INVALID, _("The username is not valid."), status=422, details={"field": "username"}
        )
    ip_address = _clean_ip(ip)
    subject = sign_in_subject_hash(username or "")
    sign_in_throttle_check(subject_hash=subject, ip=ip_address)
    user = authenticate(None, username=(username or "").strip(), password=password or "")
    if not isinstance(user, User):
        raise _refuse(
            kind=SignInFailure.Kind.PASSWORD,
            subject=subject,
            ip=ip_address,
            code=AccountsErrorCode.INVALID_CREDENTIALS,
            message=_("The username or password is not right."),
        )
    with transaction.atomic():
        _signed_in(user, method="password", ip=ip_address)
    sign_in_failures_clear(subject_hash=subject)
    return user
