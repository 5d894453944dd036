"""The appointment's QR code: a signed payload carrying its id and short code (drawn by core.qrcodes).

The signature (django.core.signing, key settings.QR_SIGNING_KEY, salt "appointment") lets the server
reject a forged or altered code outright; the scanner in the browser only checks the format.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core import signing
from django.utils.translation import gettext as _

from forecourt.appointments.errors import AppointmentErrorCode
from forecourt.core.errors import DomainError

SALT = "appointment"
# "ap_<16>.<code>:<signature>"; the browser scanner uses the same pattern to ignore unrelated QR codes.
PAYLOAD_PATTERN = re.compile(r"^ap_[0-9A-Z]{8,28}\.[0-9A-Z]{4,12}:[A-Za-z0-9_-]{20,100}$")


def _signer() -> signing.Signer:
    return signing.Signer(key=settings.QR_SIGNING_KEY, salt=SALT)


def qr_payload(*, public_id: str, code: str) -> str:
    """The string encoded in an appointment's QR code."""
    return _signer().sign(f"{public_id}.{code}")


def looks_like_qr_payload(text: str) -> bool:
    """True for anything that should be judged as a scanned payload rather than a typed short code."""
    return ":" in text or text.startswith("ap_") or len(text) > 12


def qr_payload_read(payload: str) -> tuple[str, str]:
    """(public_id, code) from a scanned payload; a forged or altered one raises `invalid_qr` (422)."""
    invalid = DomainError(
        AppointmentErrorCode.INVALID_QR,
        _("This QR code is not a valid appointment code."),
        status=422,
        details={"field": "payload"},
    )
    if not PAYLOAD_PATTERN.match(payload.strip()):
        raise invalid
    try:
        value = _signer().unsign(payload.strip())
    except signing.BadSignature:
        raise invalid from None
    public_id, _separator, code = value.partition(".")
    if not public_id or not code:
        raise invalid
    return public_id, code
