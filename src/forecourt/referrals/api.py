"""The broker's API at /api/v1/broker (the programme's tasks and statements share the prefix in
api_programme.py).

- `GET /me`: the signed-in broker — code, kind, status, city, links per model, commission totals by
  status; 404 `not_a_broker` (with `details.eligible`) for someone who has not enrolled.
- `POST /enrol` (optional body `{"kind", "user", "city"}`): an owner enrols themself → 201 with the broker
  (200 when already one); 403 `not_eligible` otherwise. OEM operations name another user (`user`, a user
  public id) and may enrol a `professional`.
- `GET /referrals` (`?stage=…&limit=&offset=`): the broker's own referrals with their stage and
  commissions, newest first; `GET /referrals/{id}`: one of them (anyone else's is 404, like an unknown id).
- `GET /commissions` (`?status=…`): the broker's commissions with their effective status.
"""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from forecourt.accounts.auth import api_auth, request_user
from forecourt.accounts.models import User
from forecourt.core import clock
from forecourt.core.api_bodies import optional_body
from forecourt.core.errors import CoreErrorCode, DomainError, NotFound, field_error
from forecourt.core.money import Money
from forecourt.dealers.models import City
from forecourt.referrals.access import api_broker, is_ops
from forecourt.referrals.models import BrokerKind, CommissionStatus, Stage
from forecourt.referrals.presenters import broker_out, referral_out, referral_rows
from forecourt.referrals.selectors import (
    CURRENCY,
    broker_commissions,
    broker_for_user,
    broker_referrals,
    commission_effective_status,
    commissions_available_q,
)
from forecourt.referrals.services import broker_enrol

router = Router(tags=["broker"], auth=api_auth)

PUBLIC_ID = r"^[A-Za-z0-9_]{1,32}$"
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"


@router.get("/me", summary="My broker profile: code, links per model, commission totals")
def broker_me(request: HttpRequest) -> dict[str, Any]:
    return broker_out(api_broker(request), request.build_absolute_uri)


class EnrolIn(Schema):
    kind: str = Field(default=BrokerKind.OWNER, max_length=20, pattern=PRINTABLE)
    user: str | None = Field(default=None, max_length=32, pattern=PUBLIC_ID)
    city: str | None = Field(default=None, max_length=40, pattern=PRINTABLE)


@router.post("/enrol", response={200: dict, 201: dict}, summary="Become a broker (ops: enrol someone)")
def broker_enrol_endpoint(request: HttpRequest) -> tuple[int, dict[str, Any]]:
    actor = request_user(request)
    body = optional_body(request, EnrolIn)
    if body.kind not in BrokerKind.values:
        raise field_error(CoreErrorCode.INVALID, "kind", _("Choose an owner or a professional broker."))
    user = actor
    if body.user and body.user != actor.public_id:
        if not is_ops(actor):
            # Asked before the lookup: whether a user id exists is not told to anyone but ops.
            raise DomainError(
                CoreErrorCode.FORBIDDEN, _("Only OEM operations enrol other people as brokers."), status=403
            )
        found = User.objects.filter(public_id=body.user).first()
        if found is None:
            raise field_error(CoreErrorCode.INVALID, "user", _("Unknown user."))
        user = found
    city = None
    if body.city:
        city = City.objects.filter(code=body.city).first()
        if city is None:
            raise field_error(CoreErrorCode.INVALID, "city", _("Unknown city."))
    existed = broker_for_user(user) is not None
    broker = broker_enrol(user=user, actor=actor, kind=body.kind, city=city)
    return (200 if existed else 201), broker_out(broker, request.build_absolute_uri)


class ReferralQuery(Schema):
    stage: str | None = Field(default=None, max_length=12, pattern=r"^[a-z_]+$")
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=1_000_000)


@router.get("/referrals", summary="My referrals with their stage and commissions (?stage=)")
def referrals_mine(request: HttpRequest, filters: Query[ReferralQuery]) -> dict[str, Any]:
    broker = api_broker(request)
    if filters.stage and filters.stage not in Stage.values:
        raise field_error(
            CoreErrorCode.INVALID,
            "stage",
            _("Choose one of: %(allowed)s.") % {"allowed": ", ".join(Stage.values)},
        )
    referrals = broker_referrals(broker=broker, stage=filters.stage)
    page = referrals[filters.offset : filters.offset + filters.limit]
    return {"count": referrals.count(), "items": [referral_out(row) for row in referral_rows(page)]}


@router.get("/referrals/{referral_id}", summary="One of my referrals")
def referral_mine(request: HttpRequest, referral_id: str) -> dict[str, Any]:
    broker = api_broker(request)
    referral = (
        broker_referrals(broker=broker).filter(public_id=referral_id).first()
        if re.fullmatch(PUBLIC_ID, referral_id)
        else None
    )
    if referral is None:
        raise NotFound(_("No such referral."))
    return referral_out(referral_rows([referral])[0])


class CommissionQuery(Schema):
    status: str | None = Field(default=None, max_length=12, pattern=r"^[a-z_]+$")
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=1_000_000)


@router.get("/commissions", summary="My commissions with their effective status (?status=)")
def commissions_mine(request: HttpRequest, filters: Query[CommissionQuery]) -> dict[str, Any]:
    broker = api_broker(request)
    moment = clock.now()
    commissions = broker_commissions(broker=broker)
    if filters.status:
        if filters.status not in CommissionStatus.values:
            raise field_error(
                CoreErrorCode.INVALID,
                "status",
                _("Choose one of: %(allowed)s.") % {"allowed": ", ".join(CommissionStatus.values)},
            )
        if filters.status == CommissionStatus.AVAILABLE:
            commissions = commissions.filter(commissions_available_q(moment))
        elif filters.status == CommissionStatus.PENDING:
            commissions = commissions.filter(status=CommissionStatus.PENDING, available_at__gt=moment)
        else:
            commissions = commissions.filter(status=filters.status)
    page = commissions[filters.offset : filters.offset + filters.limit]
    return {
        "count": commissions.count(),
        "items": [
            {
                "id": commission.public_id,
                "referral": commission.referral.public_id,
                "kind": commission.kind,
                "task": commission.task.public_id if commission.task else None,
                "amount": Money(commission.amount_fen, CURRENCY).as_dict(),
                "status": commission_effective_status(commission, moment),
                "available_at": commission.available_at.astimezone(clock.SHANGHAI).isoformat(),
                "created_at": commission.created_at.astimezone(clock.SHANGHAI).isoformat(),
                "clawed_back_at": commission.clawed_back_at.astimezone(clock.SHANGHAI).isoformat()
                if commission.clawed_back_at
                else None,
            }
            for commission in page
        ],
    }
