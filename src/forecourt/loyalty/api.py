"""The member club API, mounted at /api/v1/members.

- `GET /me`: the signed-in member's points (balance, spendable, pending with the day each lot becomes
  spendable, expiring with dates, debt), tier with progress to the next, benefits, whether checked in today.
- `GET /me/entries?limit=&offset=`: every ledger entry, newest first, with its reason in words.
- `POST /me/check-in`: the daily check-in → 201 `{"entry"}`; again the same day → 409 `already_checked_in`.
- `GET /me/card`: the card number and the signed QR payload (valid `valid_for_seconds`).
- `GET /tiers`: every tier, its qualifying points and benefits (public).
- `POST /cards/lookup` `{"code"}` (dealer staff, ops): the member a scanned card code or typed card number
  names: masked name and phone, tier, benefits. Rate limited, audited; unknown → 404.
- `POST /{number}/tasks` `{"task", "note"?, "points"?}` (ops): grant an ops task's points, once per task.

Staff, ops and partners are not members: `/me…` answers them 403 `not_a_member`.
"""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from forecourt.accounts.auth import api_auth, request_user
from forecourt.core.errors import CoreErrorCode, DomainError, NotFound
from forecourt.core.middleware import current_ip
from forecourt.loyalty.card import CARD_QR_MAX_AGE, MAX_INPUT_LENGTH, card_number_display, card_payload
from forecourt.loyalty.errors import LoyaltyErrorCode
from forecourt.loyalty.member_presenters import (
    benefit_out,
    entry_out,
    member_summary,
    staff_card_out,
    summary_out,
)
from forecourt.loyalty.models import Member
from forecourt.loyalty.selectors import member_by_number, member_entries, member_is_eligible, tier_table
from forecourt.loyalty.services import daily_check_in, member_card_lookup, member_for, ops_task_grant
from forecourt.offers.access import is_ops

router = Router(tags=["member club"])

CARD_NUMBER = re.compile(r"^[0-9A-Z]{12}$")
TASK_CODE = r"^[A-Za-z0-9_-]+$"
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"


def _member(request: HttpRequest) -> Member:
    user = request_user(request)
    if not member_is_eligible(user):
        raise DomainError(
            LoyaltyErrorCode.NOT_A_MEMBER, _("The member club is for customers and brokers."), status=403
        )
    return member_for(user)


@router.get("/me", auth=api_auth, response={200: dict}, summary="My points, tier and benefits")
def me(request: HttpRequest) -> Any:
    return 200, summary_out(member_summary(_member(request)))


class EntriesQuery(Schema):
    limit: int = Field(default=20, ge=1, le=100)
    offset: int = Field(default=0, ge=0, le=1_000_000)


@router.get("/me/entries", auth=api_auth, response={200: dict}, summary="My points entries")
def entries(request: HttpRequest, query: Query[EntriesQuery]) -> Any:
    member = _member(request)
    rows = member_entries(member)
    page = list(rows[query.offset : query.offset + query.limit])
    return 200, {
        "entries": [entry_out(entry) for entry in page],
        "total": rows.count(),
        "limit": query.limit,
        "offset": query.offset,
    }


@router.post("/me/check-in", auth=api_auth, response={201: dict}, summary="Daily check-in")
def check_in(request: HttpRequest) -> Any:
    entry = daily_check_in(member=_member(request))
    return 201, {"entry": entry_out(entry)}


@router.get("/me/card", auth=api_auth, response={200: dict}, summary="My member card")
def card(request: HttpRequest) -> Any:
    member = _member(request)
    return 200, {
        "number": member.number,
        "number_display": card_number_display(member.number),
        "qr_payload": card_payload(member),
        "valid_for_seconds": int(CARD_QR_MAX_AGE.total_seconds()),
    }


@router.get("/tiers", response={200: dict}, summary="Tiers and their benefits")
def tiers(request: HttpRequest) -> Any:
    return 200, {
        "tiers": [
            {
                "code": row.tier,
                "label": row.label,
                "min_points": row.min_points,
                "benefits": [benefit_out(benefit) for benefit in row.benefits],
            }
            for row in tier_table()
        ]
    }


class CardLookupIn(Schema):
    code: str = Field(min_length=1, max_length=MAX_INPUT_LENGTH, pattern=PRINTABLE)


@router.post(
    "/cards/lookup", auth=api_auth, response={200: dict}, summary="Identify a member by card (staff)"
)
def card_lookup(request: HttpRequest, payload: CardLookupIn) -> Any:
    member = member_card_lookup(staff=request_user(request), text=payload.code, ip=current_ip() or "")
    return 200, {"member": staff_card_out(member)}


class TaskIn(Schema):
    task: str = Field(min_length=1, max_length=40, pattern=TASK_CODE)
    note: str = Field(default="", max_length=200, pattern=PRINTABLE)
    # Strict: a JSON `true` or `"5"` is a mistake to point out, not 1 or 5 points to grant.
    points: int | None = Field(default=None, ge=1, le=1_000_000, strict=True)


@router.post(
    "/{number}/tasks", auth=api_auth, response={201: dict}, summary="Grant an ops task's points (ops)"
)
def task_grant(request: HttpRequest, number: str, payload: TaskIn) -> Any:
    actor = request_user(request)
    if not is_ops(actor):
        raise DomainError(
            CoreErrorCode.FORBIDDEN, _("Only OEM operations may grant task points."), status=403
        )
    member = member_by_number(number) if CARD_NUMBER.match(number) else None
    if member is None:
        raise NotFound(_("No member has this card number."))
    entry = ops_task_grant(
        member=member, task=payload.task, actor=actor, note=payload.note, points=payload.points
    )
    return 201, {"entry": entry_out(entry)}
