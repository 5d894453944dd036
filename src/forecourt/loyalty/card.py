"""The e-membership card's QR code: the card number, signed and dated, so a store can identify the member.

Payload: `FCM1.<card number>.<epoch seconds>:<signature>` (django.core.signing, key QR_SIGNING_KEY, salt
"loyalty-card"; the time is `core.clock`'s). The server rejects a forged or altered code outright and a
code older than `CARD_QR_MAX_AGE` as expired: the card page draws a fresh one every time it is shown, so a
screenshot passed around stops working. Staff may also type the card number printed under the code.
"""

from __future__ import annotations

import re
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.utils.translation import gettext as _

from forecourt.core import clock
from forecourt.core.errors import DomainError, NotFound
from forecourt.core.identifiers import normalise_code
from forecourt.loyalty.errors import LoyaltyErrorCode
from forecourt.loyalty.models import Member

PREFIX = "FCM1"
SALT = "loyalty-card"
CARD_QR_MAX_AGE = timedelta(minutes=30)
# The page refreshes the code well before it expires.
CARD_QR_REFRESH_SECONDS = 300
CLOCK_SLACK_SECONDS = 120
# The browser scanner uses the same pattern to tell a member card from any other QR code.
PAYLOAD_PATTERN = re.compile(r"^FCM1\.[0-9A-Z]{12}\.[0-9]{9,11}:[A-Za-z0-9_-]{20,100}$")
NUMBER_PATTERN = re.compile(r"^[0-9A-Z]{12}$")
MAX_INPUT_LENGTH = 160


def _signer() -> signing.Signer:
    return signing.Signer(key=settings.QR_SIGNING_KEY, salt=SALT)


def card_payload(member: Member) -> str:
    """The string encoded in the member card's QR code, dated now."""
    return _signer().sign(f"{PREFIX}.{member.number}.{int(clock.now().timestamp())}")


def card_number_display(number: str) -> str:
    """`7K3M9Q2X4T8V` → `7K3M 9Q2X 4T8V`, as printed on the card."""
    return " ".join(number[index : index + 4] for index in range(0, len(number), 4))


def _invalid() -> DomainError:
    return DomainError(
        LoyaltyErrorCode.INVALID_CARD,
        _("This is not a valid member card code."),
        status=422,
        details={"field": "code"},
    )


def card_number_read(text: str) -> str:
    """The card number from a scanned payload or a typed number; raises `invalid_card` / `card_expired`."""
    raw = (text or "").strip()
    if not raw or len(raw) > MAX_INPUT_LENGTH:
        raise _invalid()
    if raw.startswith(f"{PREFIX}."):
        if not PAYLOAD_PATTERN.match(raw):
            raise _invalid()
        try:
            value = _signer().unsign(raw)
        except signing.BadSignature:
            raise _invalid() from None
        _prefix, number, epoch = value.split(".")
        age = clock.now().timestamp() - int(epoch)
        # A little slack for a phone whose clock is ahead; a code from the future beyond it is forged.
        if age > CARD_QR_MAX_AGE.total_seconds() or age < -CLOCK_SLACK_SECONDS:
            raise DomainError(
                LoyaltyErrorCode.CARD_EXPIRED,
                _("This card code has expired. Ask the member to open the card page again."),
                status=422,
                details={"field": "code"},
            )
        return number
    number = normalise_code(raw)
    if not NUMBER_PATTERN.match(number):
        raise _invalid()
    return number


def card_member(text: str) -> Member:
    """The member a scanned code or typed card number names; an unknown number is a 404."""
    number = card_number_read(text)
    member = Member.objects.filter(number=number).select_related("user").first()
    if member is None:
        raise NotFound(_("No member has this card number."))
    return member
