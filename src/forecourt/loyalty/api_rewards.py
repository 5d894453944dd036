"""The rewards API at /api/v1/rewards.

- `GET ""`: rewards on offer; signed in, also `"member"` (spendable points and tier) and, per reward,
  `affordable` and `tier_reached`. `GET /{id}`: one reward (an unknown id is 404).
- `POST /{id}/redeem` (signed in; REQUIRES an `Idempotency-Key` header; optional body `{"provider"}` for a
  reward with a cash part, default "sandbox") → `201 {"redemption": {..., "voucher": {...}}}`; 409
  `insufficient_points`, `reward_unavailable` (details.reason: off_sale, not_started, ended, sold_out,
  limit_reached) or `tier_too_low`. A repeat with the same key and body returns the first answer; the same
  key with another body is 422 `idempotency_key_reused`. A points + cash redemption answers with status
  `awaiting_payment` and no voucher yet: pay it with `POST /redemptions/{id}/pay`.
- `GET /redemptions` (mine, newest first), `GET /redemptions/{id}`, `POST /redemptions/{id}/pay`
  (`{"return_url"}` → how to pay: `{"kind", "url", "qr_payload", "params"}`). Someone else's redemption is
  a 404, exactly like an unknown one.
"""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Header, Query, Router, Schema
from pydantic import Field

from forecourt.accounts.auth import api_auth, api_auth_optional, request_user
from forecourt.core.api_bodies import optional_body
from forecourt.core.errors import NotFound
from forecourt.core.idempotency import IDEMPOTENCY_HEADER, idempotency_key_from_header, idempotent_call
from forecourt.loyalty.models import RewardOrder
from forecourt.loyalty.reward_presenters import redemption_out, reward_out
from forecourt.loyalty.reward_selectors import (
    member_wallet,
    reward_order_of,
    reward_orders_of,
    reward_public,
    rewards_on_offer,
)
from forecourt.loyalty.selectors import member_of
from forecourt.loyalty.services import member_for, reward_payment_start, reward_redeem
from forecourt.payments.services import return_url_on_site

router = Router(tags=["rewards"])

PUBLIC_ID = r"^[A-Za-z0-9_]{1,32}$"
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"


def _reward(reward_id: str) -> Any:
    reward = reward_public(reward_id) if re.fullmatch(PUBLIC_ID, reward_id) else None
    if reward is None:
        raise NotFound(_("No such reward."))
    return reward


def _wallet_out(request: HttpRequest) -> Any:
    user = getattr(request, "auth", None)
    if not getattr(user, "is_authenticated", False):
        return None
    wallet = member_wallet(user)
    if not wallet.is_member:
        return None
    return wallet


# Redemptions first: "/redemptions" must not be taken for a reward id.


class RedemptionListQuery(Schema):
    limit: int = Field(default=20, ge=1, le=100)
    offset: int = Field(default=0, ge=0, le=1_000_000)


@router.get("/redemptions", auth=api_auth, summary="My redemptions, newest first")
def redemptions_mine(request: HttpRequest, filters: Query[RedemptionListQuery]) -> dict[str, Any]:
    member = member_of(request_user(request))
    if member is None:
        return {"count": 0, "items": []}
    orders = reward_orders_of(member)
    page = list(orders[filters.offset : filters.offset + filters.limit])
    return {"count": orders.count(), "items": [redemption_out(order) for order in page]}


def _mine(request: HttpRequest, redemption_id: str) -> RewardOrder:
    order = (
        reward_order_of(request_user(request), redemption_id)
        if re.fullmatch(PUBLIC_ID, redemption_id)
        else None
    )
    if order is None:
        raise NotFound(_("No such redemption."))
    return order


@router.get("/redemptions/{redemption_id}", auth=api_auth, summary="One of my redemptions, with its voucher")
def redemption_mine(request: HttpRequest, redemption_id: str) -> dict[str, Any]:
    return redemption_out(_mine(request, redemption_id))


class PayIn(Schema):
    return_url: str = Field(min_length=1, max_length=500, pattern=PRINTABLE)


@router.post(
    "/redemptions/{redemption_id}/pay",
    response={201: dict},
    auth=api_auth,
    summary="Pay the cash part of a points + cash redemption",
)
def redemption_pay(request: HttpRequest, redemption_id: str, payload: PayIn) -> tuple[int, dict[str, Any]]:
    order = _mine(request, redemption_id)
    start = reward_payment_start(
        order=order, actor=request_user(request), return_url=return_url_on_site(payload.return_url)
    )
    return 201, {**start.as_answer(), "redemption": order.public_id}


@router.get("", auth=api_auth_optional, summary="Rewards on offer (with my points and tier when signed in)")
def rewards_list(request: HttpRequest) -> dict[str, Any]:
    wallet = _wallet_out(request)
    items = [reward_out(reward, wallet=wallet) for reward in rewards_on_offer()]
    member = (
        {
            "spendable": wallet.spendable,
            "pending": wallet.pending,
            "tier": wallet.tier,
            "number": wallet.number,
        }
        if wallet is not None
        else None
    )
    return {"member": member, "items": items}


@router.get("/{reward_id}", auth=api_auth_optional, summary="One reward")
def reward_detail(request: HttpRequest, reward_id: str) -> dict[str, Any]:
    return reward_out(_reward(reward_id), wallet=_wallet_out(request))


class RedeemIn(Schema):
    provider: str | None = Field(default=None, min_length=1, max_length=20, pattern=PRINTABLE)


@router.post(
    "/{reward_id}/redeem",
    response={201: dict},
    auth=api_auth,
    summary="Redeem a reward for points (or points and cash); Idempotency-Key required",
)
def reward_redeem_endpoint(
    request: HttpRequest,
    reward_id: str,
    idempotency_key: str | None = Header(None, alias=IDEMPOTENCY_HEADER),
) -> tuple[int, Any]:
    user = request_user(request)
    key = idempotency_key_from_header(idempotency_key)
    reward = _reward(reward_id)
    body = optional_body(request, RedeemIn)

    def perform() -> tuple[int, Any]:
        order = reward_redeem(
            member=member_for(user),
            reward=reward,
            idempotency_key=key,
            actor=user,
            provider=body.provider,
        )
        return 201, {"redemption": redemption_out(order)}

    return idempotent_call(
        scope=f"loyalty-rewards:{user.pk}",
        key=key,
        body={"reward": reward.public_id, **body.model_dump(mode="json")},
        perform=perform,
    )
