"""The voucher's QR code: a payload signed with ECDSA P-256, so a store's screen can check it offline.

Payload: `FCV1.<code>.<holder public id>.<valid-until epoch>.<signature>`; the signature (base64url,
raw r‖s as WebCrypto produces and expects) covers everything before it. The dealer's page verifies it
with the public key (`/offers/voucher-key.json`) and flags a forged or altered code at once; the server
checks it again and remains the only judge of whether the voucher can be used.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from functools import cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from django.conf import settings
from django.utils.translation import gettext as _

from forecourt.core.errors import DomainError
from forecourt.core.identifiers import normalise_code
from forecourt.offers.errors import OfferErrorCode

PREFIX = "FCV1"
# The browser scanner uses the same pattern to tell a voucher QR from anything else it sees.
PAYLOAD_PATTERN = re.compile(
    r"^FCV1\.[0-9A-Z]{16}\.[a-z]{2,4}_[0-9A-Z]{8,28}\.[0-9]{9,11}\.[A-Za-z0-9_-]{86}$"
)
_ORDER = ec.SECP256R1().key_size // 8  # 32 bytes per coordinate


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@cache
def _private_key() -> ec.EllipticCurvePrivateKey:
    pem = settings.OFFERS_VOUCHER_SIGNING_KEY
    if pem:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            raise ValueError("FORECOURT_OFFERS_VOUCHER_SIGNING_KEY must be an ECDSA P-256 private key")
        return key
    # Development and demo: a key derived from SECRET_KEY, so every process signs alike.
    seed = hashlib.sha256(f"voucher-signing:{settings.SECRET_KEY}".encode()).digest()
    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    return ec.derive_private_key(int.from_bytes(seed) % (order - 1) + 1, ec.SECP256R1())


def signing_key_clear() -> None:
    """Forget the cached key (tests that change the setting)."""
    _private_key.cache_clear()


def public_key_jwk() -> dict[str, object]:
    """The verification key as a JWK, for WebCrypto's importKey in the dealer's browser."""
    numbers = _private_key().public_key().public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": _b64url(numbers.x.to_bytes(_ORDER)),
        "y": _b64url(numbers.y.to_bytes(_ORDER)),
        "ext": True,
        "key_ops": ["verify"],
    }


def qr_payload(*, code: str, holder_public_id: str, valid_until_epoch: int) -> str:
    """The string encoded in a voucher's QR code."""
    message = f"{PREFIX}.{code}.{holder_public_id}.{valid_until_epoch}"
    der = _private_key().sign(message.encode(), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    return f"{message}.{_b64url(r.to_bytes(_ORDER) + s.to_bytes(_ORDER))}"


@dataclass(frozen=True)
class ScannedVoucher:
    code: str
    holder_public_id: str
    valid_until_epoch: int


def invalid_qr() -> DomainError:
    return DomainError(
        OfferErrorCode.INVALID_QR,
        _("This QR code is not a genuine voucher: it was forged or altered."),
        status=422,
        details=[{"field": "code", "message": _("The QR code's signature does not match.")}],
    )


def qr_payload_read(payload: str) -> ScannedVoucher:
    """The signed fields of a scanned payload; a forged or altered one raises `invalid_qr` (422)."""
    text = payload.strip()
    if not PAYLOAD_PATTERN.match(text):
        raise invalid_qr()
    message, _dot, signature = text.rpartition(".")
    raw = _b64url_decode(signature)
    if len(raw) != 2 * _ORDER:
        raise invalid_qr()
    der = encode_dss_signature(int.from_bytes(raw[:_ORDER]), int.from_bytes(raw[_ORDER:]))
    try:
        _private_key().public_key().verify(der, message.encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise invalid_qr() from None
    _prefix, code, holder, until = message.split(".")
    return ScannedVoucher(code=code, holder_public_id=holder, valid_until_epoch=int(until))


def looks_like_qr_payload(text: str) -> bool:
    return text.strip().startswith(PREFIX + ".")


def code_from_input(text: str) -> tuple[str, ScannedVoucher | None]:
    """A voucher code from what staff typed or scanned: a signed payload is verified first."""
    if looks_like_qr_payload(text):
        scanned = qr_payload_read(text)
        return scanned.code, scanned
    return normalise_code(text), None
