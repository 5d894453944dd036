"""Mainland mobile numbers: normalise to E.164, a keyed hash for lookup, encryption for storage, masking.

PIPL: no plain phone number is ever stored or logged. A model keeps `phone_hash` (to find a person)
and `phone_encrypted` (to show the number to someone allowed to see it).
"""

import hashlib
import hmac
import re
import unicodedata

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.utils.translation import gettext as _

from forecourt.core.errors import CoreErrorCode, DomainError

# Mainland mobile numbers are 11 digits starting 13–19 (13x, 14x, 15x, 16x, 17x, 18x, 19x).
# ASCII digits only: `\d` would also accept other scripts' digits and yield a second spelling of a number.
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_SEPARATORS = re.compile(r"[\s\-().]")


class InvalidPhone(DomainError):
    def __init__(self, message: str) -> None:
        super().__init__(CoreErrorCode.INVALID_PHONE, message, status=422, details={"field": "phone"})


def normalise_mainland_mobile(raw: str) -> str:
    """Return `+86XXXXXXXXXXX` for a mainland mobile number in any usual spelling, or raise InvalidPhone."""
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidPhone(_("Enter a mobile phone number."))
    # NFKC turns full-width digits and signs (１３８, ＋, －), common from Chinese input methods, into ASCII.
    digits = _SEPARATORS.sub("", unicodedata.normalize("NFKC", raw).strip())
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    elif digits.startswith(("+", "00")):
        raise InvalidPhone(_("Only mainland China mobile numbers (+86) are accepted."))
    if not (digits.isascii() and digits.isdigit()):
        raise InvalidPhone(_("A mobile number may contain only digits."))
    if not _MOBILE.fullmatch(digits):
        raise InvalidPhone(_("Enter an 11-digit mainland China mobile number starting with 13–19."))
    return "+86" + digits


def national_number(e164: str) -> str:
    return e164[3:] if e164.startswith("+86") else e164


def phone_hash(e164: str) -> str:
    """Keyed hash (HMAC-SHA256) for lookups; without the key it cannot be reversed by enumeration."""
    return hmac.new(settings.PHONE_HASH_KEY.encode(), e164.encode(), hashlib.sha256).hexdigest()


def _fernet() -> MultiFernet:
    # The first key encrypts; the others still decrypt, so keys can be rotated.
    return MultiFernet([Fernet(key.encode()) for key in settings.PHONE_ENCRYPTION_KEYS])


def encrypt_phone(e164: str) -> str:
    return _fernet().encrypt(e164.encode()).decode()


def decrypt_phone(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise DomainError(
            CoreErrorCode.INVALID, "stored phone number cannot be decrypted with the configured keys"
        ) from None


def mask_phone(e164: str) -> str:
    """`+8613800138000` → `138****8000`."""
    number = national_number(e164)
    if len(number) != 11:
        return "*" * len(number)
    return f"{number[:3]}****{number[-4:]}"


def mask_name(name: str) -> str:
    """`张三丰` → `张**`: what staff see of a customer's name, enough to greet them, not to identify them."""
    name = (name or "").strip()
    if not name:
        return ""
    return name[0] + "*" * max(len(name) - 1, 1)


def protect_phone(raw: str) -> tuple[str, str, str]:
    """Normalise and return (e164, hash, ciphertext) for storing; the e164 must not be kept further."""
    e164 = normalise_mainland_mobile(raw)
    return e164, phone_hash(e164), encrypt_phone(e164)
