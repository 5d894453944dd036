"""Error codes of the accounts app; raised as core DomainError so the API maps them to JSON."""

from enum import StrEnum


class AccountsErrorCode(StrEnum):
    INVALID_CREDENTIALS = "invalid_credentials"
    CODE_EXPIRED = "code_expired"
    CODE_EXHAUSTED = "code_exhausted"
    ACCOUNT_DISABLED = "account_disabled"
    PASSWORD_REQUIRED = "password_required"
    SMS_UNAVAILABLE = "sms_unavailable"
    INVALID_TOKEN = "invalid_token"
    CSRF_FAILED = "csrf_failed"
    NO_TOKEN = "no_token"
    UNKNOWN_TEXT_VERSION = "unknown_text_version"
