"""Staff API: voucher lookup and write-off for dealer and merchant staff (mounted at /api/v1/vouchers).

- `POST /lookup` `{"code"}` → 200 the voucher card (what, whose — masked —, value, validity, conditions,
  status); 404 alike for an unknown code and one this place may not see.
- `POST /redeem` `{"code", "order"?}` with an `Idempotency-Key` header → 200 `{"voucher", "redemption"}`;
  the same key replays the first answer; another key on a used voucher is 409 `already_redeemed` with
  `details: {"redeemed_at", "place"}`.
- `GET /verification-key` → the QR signature's public key as a JWK (for WebCrypto in the browser).

Both POSTs are counted against the rate limits (per staff member, per place, per IP) before anything else,
outside the idempotency transaction, so a refused probe is counted too.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Header, Router, Schema
from pydantic import Field

from forecourt.accounts.auth import api_auth, request_user
from forecourt.core import clock
from forecourt.core.errors import DomainError
from forecourt.core.idempotency import IDEMPOTENCY_HEADER, idempotency_key_from_header, idempotent_call
from forecourt.core.middleware import current_ip
from forecourt.core.phones import decrypt_phone, mask_name, mask_phone
from forecourt.offers.models import CouponKind, Redemption, Voucher, VoucherStatus
from forecourt.offers.presenters import money_out
from forecourt.offers.qr import public_key_jwk
from forecourt.offers.selectors import voucher_effective_status
from forecourt.offers.services.redemption import (
    MAX_INPUT_LENGTH,
    standing_redemption,
    voucher_lookup,
    voucher_redeem,
    writeoff_attempt_count,
)

router = Router(tags=["offers: write-off"])

ORDER_NUMBER = r"^[A-Za-z0-9_-]+$"


class CodeIn(Schema):
    code: str = Field(min_length=1, max_length=MAX_INPUT_LENGTH)


class RedeemIn(Schema):
    code: str = Field(min_length=1, max_length=MAX_INPUT_LENGTH)
    order: str | None = Field(default=None, min_length=1, max_length=32, pattern=ORDER_NUMBER)


def holder_out(voucher: Voucher) -> dict[str, str]:
    holder = voucher.holder
    phone = ""
    if holder.phone_encrypted:
        try:
            phone = mask_phone(decrypt_phone(holder.phone_encrypted))
        except DomainError:
            phone = ""
    return {"name": mask_name(holder.display_name), "phone": phone}


def _local(moment: Any) -> str | None:
    return moment.astimezone(clock.SHANGHAI).isoformat() if moment is not None else None


def redemption_out(redemption: Redemption) -> dict[str, Any]:
    return {
        "redeemed_at": _local(redemption.redeemed_at),
        "place": redemption.place,
        "value": money_out(redemption.value_fen),
    }


def voucher_card(voucher: Voucher, *, standing: Redemption | None = None) -> dict[str, Any]:
    """What staff see before writing a voucher off: what, whose, value, validity, conditions, status.

    `standing`: the voucher's standing redemption when the caller already has it (saves a query)."""
    campaign = voucher.campaign
    status = voucher_effective_status(voucher)
    value_fen = voucher.applied_value_fen if voucher.applied_value_fen else voucher.face_value_fen
    card: dict[str, Any] = {
        "code": voucher.display_code,
        "kind": voucher.kind,
        "kind_label": str(CouponKind(voucher.kind).label),
        "campaign": {"id": campaign.public_id, "name": campaign.display_name},
        "what": campaign.display_gift or campaign.display_description or campaign.display_name,
        "merchant": campaign.merchant.display_name if campaign.merchant else None,
        "holder": holder_out(voucher),
        "value": money_out(value_fen),
        "percent_off_bp": voucher.percent_off_bp or None,
        "valid_from": _local(voucher.valid_from),
        "valid_until": _local(voucher.valid_until),
        "conditions": campaign.display_conditions,
        "status": status,
        "status_label": str(VoucherStatus(status).label),
        "order": voucher.order_reference or None,
        "redemption": None,
    }
    if status == "redeemed":
        if standing is None:
            standing = standing_redemption(voucher)
        card["redemption"] = redemption_out(standing) if standing is not None else None
    return card


@router.post("/lookup", auth=api_auth, response={200: dict}, summary="Look up a voucher (staff)")
def lookup(request: HttpRequest, payload: CodeIn) -> Any:
    staff = request_user(request)
    voucher = voucher_lookup(staff=staff, text=payload.code, ip=current_ip())
    return 200, {"voucher": voucher_card(voucher)}


@router.post("/redeem", auth=api_auth, response={200: dict}, summary="Write off a voucher (staff)")
def redeem(
    request: HttpRequest,
    payload: RedeemIn,
    idempotency_key: str | None = Header(None, alias=IDEMPOTENCY_HEADER),
) -> Any:
    staff = request_user(request)
    key = idempotency_key_from_header(idempotency_key)
    # Counted outside the idempotency transaction: a refused attempt must still count.
    place = writeoff_attempt_count(staff=staff, ip=current_ip())
    body = {"code": payload.code.strip(), "order": payload.order or ""}

    def perform() -> tuple[int, Any]:
        redemption = voucher_redeem(
            staff=staff,
            text=payload.code,
            idempotency_key=key,
            order_reference=payload.order or "",
            counted=True,
        )
        return 200, writeoff_answer(redemption)

    return idempotent_call(scope=f"offers.redeem:{place.key}:{staff.pk}", key=key, body=body, perform=perform)


def writeoff_answer(redemption: Redemption) -> dict[str, Any]:
    """The answer to a write-off, from the voucher the service wrote off (its campaign, merchant and holder
    are already loaded) and the redemption itself: no second read."""
    voucher = redemption.voucher
    return {"voucher": voucher_card(voucher, standing=redemption), "redemption": redemption_out(redemption)}


@router.get("/verification-key", response={200: dict}, summary="The voucher QR signature's public key (JWK)")
def verification_key(request: HttpRequest) -> Any:
    return 200, public_key_jwk()
