"""Consumer API of offers.

- `campaigns_router` at /api/v1/campaigns: `GET ""` running campaigns and `GET /{id}` one (public);
  `POST /{id}/claim` (signed in; optional body `{"channel"}`) → `201 {"voucher": {...}}`, or 409 with
  `budget_exhausted`, `limit_reached` or `not_eligible`; an unknown id is 404, a malformed body 422.
- `vouchers_router` at /api/v1/vouchers: the holder's own vouchers. `GET ""` (`?status=active|used|expired`),
  `GET /{code}`, `POST /{code}/pay` (a paid coupon awaiting payment), `POST /{code}/refund` (an unused paid
  coupon). Someone else's code is a 404, exactly like an unknown one. The staff router mounted at the same
  prefix (api_staff.py) owns /redeem, /lookup and /verification-key; codes here are matched by the
  `vouchercode` converter (four groups of four), so those words never reach these endpoints.
"""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest
from django.urls import register_converter
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from forecourt.accounts.auth import api_auth, request_user
from forecourt.core.api_bodies import optional_body
from forecourt.core.errors import NotFound
from forecourt.core.identifiers import normalise_code
from forecourt.offers import selectors
from forecourt.offers.models import Campaign, Voucher
from forecourt.offers.presenters import campaign_out, voucher_out
from forecourt.offers.services import campaign_claim, voucher_pay_start, voucher_refund
from forecourt.payments.services import return_url_on_site

campaigns_router = Router(tags=["offers"])
vouchers_router = Router(tags=["offers"], auth=api_auth)

PRINTABLE = r"^[^\x00-\x1f\x7f]*$"
PUBLIC_ID = r"^[A-Za-z0-9_]{1,32}$"


class VoucherCodeConverter:
    """A voucher code as people type it: 16 letters and digits, optionally in groups of four."""

    regex = r"[0-9A-Za-z]{4}-?[0-9A-Za-z]{4}-?[0-9A-Za-z]{4}-?[0-9A-Za-z]{4}"

    def to_python(self, value: str) -> str:
        return normalise_code(value)

    def to_url(self, value: str) -> str:
        return str(value)


register_converter(VoucherCodeConverter, "vouchercode")


# ---- Campaigns -------------------------------------------------------------------------------------------


def _campaign(public_id: str) -> Campaign:
    campaign = selectors.campaign_public(public_id) if re.fullmatch(PUBLIC_ID, public_id) else None
    if campaign is None:
        raise NotFound(_("No such campaign."))
    return campaign


@campaigns_router.get("", summary="Campaigns running now")
def campaigns_list(request: HttpRequest) -> dict[str, Any]:
    campaigns = selectors.campaigns_running().select_related("merchant").prefetch_related("stackable_with")
    return {"items": [campaign_out(campaign) for campaign in campaigns]}


@campaigns_router.get(
    "/{campaign_id}", summary="One campaign: value, budget left, limit, validity, conditions"
)
def campaign_detail(request: HttpRequest, campaign_id: str) -> dict[str, Any]:
    return campaign_out(_campaign(campaign_id))


class ClaimIn(Schema):
    channel: str = Field(default="web", min_length=1, max_length=10, pattern=PRINTABLE)


@campaigns_router.post(
    "/{campaign_id}/claim", response={201: dict}, auth=api_auth, summary="Claim a coupon from a campaign"
)
def campaign_claim_endpoint(request: HttpRequest, campaign_id: str) -> tuple[int, dict[str, Any]]:
    holder = request_user(request)
    campaign = _campaign(campaign_id)
    body = optional_body(request, ClaimIn)
    voucher = campaign_claim(campaign=campaign, holder=holder, channel=body.channel)
    return 201, {"voucher": voucher_out(voucher)}


# ---- My vouchers -----------------------------------------------------------------------------------------


class VoucherListQuery(Schema):
    status: str | None = Field(default=None, pattern=r"^(active|used|expired)$")
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=1_000_000)


@vouchers_router.get("", summary="My vouchers (?status=active|used|expired)")
def vouchers_mine(request: HttpRequest, filters: Query[VoucherListQuery]) -> dict[str, Any]:
    holder = request_user(request)
    vouchers = (
        selectors.vouchers_in_tab(holder, filters.status) if filters.status else selectors.vouchers_of(holder)
    )
    page = list(vouchers[filters.offset : filters.offset + filters.limit])
    return {"count": vouchers.count(), "items": [voucher_out(voucher) for voucher in page]}


def _mine(request: HttpRequest, code: str) -> Voucher:
    voucher = selectors.voucher_of_holder(request_user(request), code)
    if voucher is None:
        raise NotFound(_("No such voucher."))
    return voucher


@vouchers_router.get("/{vouchercode:code}", summary="One of my vouchers, with its QR payload")
def voucher_mine(request: HttpRequest, code: str) -> dict[str, Any]:
    return voucher_out(_mine(request, code))


class VoucherPayIn(Schema):
    provider: str = Field(max_length=20, pattern=PRINTABLE)
    channel: str = Field(default="", max_length=20, pattern=PRINTABLE)
    return_url: str = Field(min_length=1, max_length=500, pattern=PRINTABLE)


@vouchers_router.post("/{vouchercode:code}/pay", response={201: dict}, summary="Pay for a paid coupon")
def voucher_pay(request: HttpRequest, code: str, payload: VoucherPayIn) -> tuple[int, dict[str, Any]]:
    holder = request_user(request)
    voucher = _mine(request, code)
    start = voucher_pay_start(
        voucher=voucher,
        provider=payload.provider,
        channel=payload.channel,
        return_url=return_url_on_site(payload.return_url),
        actor=holder,
    )
    return 201, {**start.as_answer(), "voucher": voucher.code}


@vouchers_router.post("/{vouchercode:code}/refund", summary="Refund an unused paid coupon")
def voucher_refund_endpoint(request: HttpRequest, code: str) -> dict[str, Any]:
    voucher = voucher_refund(voucher=_mine(request, code), actor=request_user(request))
    return voucher_out(voucher)
