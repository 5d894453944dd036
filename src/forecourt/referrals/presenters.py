"""What a broker's pages and the API show of brokers, their links and referrals.

A broker sees their friends' names masked (张*), never a phone number, an order number or the evidence
behind a fraud flag (that is for ops): a rejected referral says why in plain words, a flagged one is
"under review".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from forecourt.catalog.models import VehicleModel
from forecourt.core import clock
from forecourt.core.money import Money
from forecourt.referrals.fraud import FraudRule
from forecourt.referrals.honours_selectors import name_masked
from forecourt.referrals.models import Broker, Commission, CommissionStatus, Referral, Stage
from forecourt.referrals.selectors import (
    CURRENCY,
    broker_commission_totals,
    commission_effective_status,
    referral_effective_stage,
)
from forecourt.referrals.services.events import referral_is_flagged

# The progress bar of a referral, in order.
PROGRESS: tuple[str, ...] = (Stage.REFERRED, Stage.QUALIFIED, Stage.ORDERED, Stage.DELIVERED, Stage.CONVERTED)


def rejection_text(code: str) -> str:
    """Why a referral does not count, said to the broker."""
    texts: dict[str, str] = {
        FraudRule.SELF_REFERRAL: _("Your own visit or booking does not count as a referral."),
        FraudRule.EXISTING_CUSTOMER: _("Your friend is already our customer."),
        FraudRule.EXISTING_LEAD: _("Your friend was already in touch with us before opening your link."),
        FraudRule.VELOCITY: _("You reached today's limit of referrals; this one does not count."),
    }
    return str(texts.get(code, _("This referral does not meet the programme's rules.")))


def model_names(codes: Iterable[str] | None = None) -> dict[str, str]:
    """Model code → the model's name in the active language."""
    models = VehicleModel.objects.all()
    if codes is not None:
        models = models.filter(code__in=set(codes))
    return {model.code: model.display_name for model in models}


def landing_path(broker: Broker, model_code: str = "") -> str:
    path = reverse("referrals:landing", args=[broker.code])
    return f"{path}?{urlencode({'m': model_code})}" if model_code else path


@dataclass(frozen=True)
class BrokerLink:
    model_code: str
    model_name: str
    url: str


def models_on_sale() -> list[VehicleModel]:
    """The models a broker's links, posters and invitations offer, in the catalogue's order."""
    return list(VehicleModel.objects.filter(is_active=True).order_by("position", "code"))


def broker_links(broker: Broker, absolute: Callable[[str], str]) -> list[BrokerLink]:
    """The broker's general link and one link per model on sale (the landing page shows that model)."""
    links = [BrokerLink(model_code="", model_name=_("Any model"), url=absolute(landing_path(broker)))]
    for model in models_on_sale():
        links.append(
            BrokerLink(
                model_code=model.code,
                model_name=model.display_name,
                url=absolute(landing_path(broker, model.code)),
            )
        )
    return links


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(clock.SHANGHAI).isoformat() if value else None


def commission_row(commission: Commission, at: datetime) -> dict[str, Any]:
    status = commission_effective_status(commission, at)
    return {
        "id": commission.public_id,
        "kind": commission.kind,
        "kind_label": commission.get_kind_display(),
        "task": commission.task.title if commission.task_id and commission.task else "",
        "amount": Money(commission.amount_fen, CURRENCY),
        "status": status,
        "status_label": str(CommissionStatus(status).label),
        "available_at": commission.available_at,
    }


def referral_row(
    referral: Referral, *, commissions: list[Commission], names: dict[str, str], at: datetime
) -> dict[str, Any]:
    """One referral as the broker's page lists it."""
    stage = referral_effective_stage(referral, at)
    flagged = stage != Stage.REJECTED and referral_is_flagged(referral)
    return {
        "id": referral.public_id,
        "stage": stage,
        "stage_label": str(Stage(stage).label),
        "step": PROGRESS.index(stage) + 1 if stage in PROGRESS else 0,
        "friend": name_masked(referral.person.display_name),
        "model": names.get(referral.model_code, referral.model_code),
        "model_code": referral.model_code,
        "city": referral.city.display_name if referral.city_id and referral.city else "",
        "referred_at": referral.referred_at,
        "qualified_at": referral.qualified_at,
        "delivered_at": referral.delivered_at,
        "under_review": flagged,
        "rejection": rejection_text(referral.rejection) if stage == Stage.REJECTED else "",
        "commissions": [commission_row(commission, at) for commission in commissions],
    }


def referral_rows(referrals: Iterable[Referral], at: datetime | None = None) -> list[dict[str, Any]]:
    """Rows for a page of referrals, with their commissions, in two queries."""
    moment = at or clock.now()
    referrals = list(referrals)
    by_referral: dict[int, list[Commission]] = {}
    for commission in (
        Commission.objects.filter(referral__in=referrals).select_related("task").order_by("created_at", "id")
    ):
        by_referral.setdefault(commission.referral_id, []).append(commission)
    names = model_names(referral.model_code for referral in referrals)
    return [
        referral_row(referral, commissions=by_referral.get(referral.pk, []), names=names, at=moment)
        for referral in referrals
    ]


def money_json(amount: Money) -> dict[str, Any]:
    return amount.as_dict()


def referral_out(row: dict[str, Any]) -> dict[str, Any]:
    """A referral row as the API answers it."""
    return {
        "id": row["id"],
        "stage": row["stage"],
        "stage_label": row["stage_label"],
        "friend": row["friend"],
        "model": row["model_code"],
        "model_name": row["model"],
        "city": row["city"] or None,
        "referred_at": _iso(row["referred_at"]),
        "qualified_at": _iso(row["qualified_at"]),
        "delivered_at": _iso(row["delivered_at"]),
        "under_review": row["under_review"],
        "rejection": row["rejection"] or None,
        "commissions": [
            {
                "id": commission["id"],
                "kind": commission["kind"],
                "task": commission["task"] or None,
                "amount": money_json(commission["amount"]),
                "status": commission["status"],
                "available_at": _iso(commission["available_at"]),
            }
            for commission in row["commissions"]
        ],
    }


def broker_out(broker: Broker, absolute: Callable[[str], str], at: datetime | None = None) -> dict[str, Any]:
    """The broker's own profile: code, kind, status, links and commission totals."""
    totals = broker_commission_totals(broker=broker, at=at)
    return {
        "code": broker.code,
        "kind": broker.kind,
        "status": broker.status,
        "city": broker.city.code if broker.city_id and broker.city else None,
        "enrolled_at": _iso(broker.enrolled_at),
        "links": [
            {"model": link.model_code or None, "model_name": link.model_name, "url": link.url}
            for link in broker_links(broker, absolute)
        ],
        "totals": {status: money_json(amount) for status, amount in totals.items()},
    }
