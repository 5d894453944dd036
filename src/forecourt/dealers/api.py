"""The dealer network's public API at /api/v1/dealers: nearest dealers, one dealer, the cities."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema

from forecourt.core.errors import CoreErrorCode, DomainError
from forecourt.dealers.forms import NearestDealerForm
from forecourt.dealers.models import City, Dealer
from forecourt.dealers.selectors import cities_all, dealer_get

router = Router(tags=["dealers"])


class CityOut(Schema):
    code: str
    name: str
    name_en: str
    province: str
    province_en: str
    latitude: float
    longitude: float


class CityRefOut(Schema):
    code: str
    name: str
    name_en: str
    province: str


class DealerOut(Schema):
    id: str
    name: str
    kind: str
    kind_label: str
    city: CityRefOut
    province: str
    address: str
    latitude: float
    longitude: float
    phone: str
    # {"mon": ["09:00", "21:00"], ...}; a day left out is a closed day.
    opening_hours: dict[str, list[str]]
    hours_today: list[str] | None
    services: list[str]


class NearestDealerOut(DealerOut):
    distance_km: float


def _city(city: City) -> dict[str, Any]:
    return {
        "code": city.code,
        "name": city.name,
        "name_en": city.name_en,
        "province": city.province,
        "province_en": city.province_en,
        "latitude": float(city.latitude),
        "longitude": float(city.longitude),
    }


def _dealer(dealer: Dealer) -> dict[str, Any]:
    today = dealer.hours_today()
    return {
        "id": dealer.public_id,
        "name": dealer.name,
        "kind": dealer.kind,
        "kind_label": str(dealer.get_kind_display()),
        "city": _city(dealer.city),
        "province": dealer.city.province,
        "address": dealer.address,
        "latitude": float(dealer.latitude),
        "longitude": float(dealer.longitude),
        "phone": dealer.phone,
        "opening_hours": dealer.opening_hours or {},
        "hours_today": list(today) if today else None,
        "services": dealer.services,
    }


@router.get("/cities", response=list[CityOut], summary="Every city with dealers or stores")
def list_cities(request: HttpRequest) -> list[dict[str, Any]]:
    return [_city(city) for city in cities_all()]


@router.get("/nearest", response=list[NearestDealerOut], summary="Dealers nearest a position or in a city")
def nearest_dealers(
    request: HttpRequest,
    lat: str | None = None,
    lng: str | None = None,
    city: str | None = None,
    service: str | None = None,
    limit: str | None = None,
) -> list[dict[str, Any]]:
    """`lat`+`lng` (degrees), or `city` (a city code: from its centre, within that city); optional
    `service` (sales, test_drive, delivery, service) and `limit` (1–50, default 10). Ascending distance."""
    raw = {"lat": lat, "lng": lng, "city": city, "service": service, "limit": limit}
    form = NearestDealerForm(data={key: value for key, value in raw.items() if value is not None})
    if not form.is_valid():
        raise DomainError(
            CoreErrorCode.INVALID, _("The request is not valid."), status=422, details=form.error_details()
        )
    return [{**_dealer(found.dealer), "distance_km": round(found.distance_km, 2)} for found in form.search()]


@router.get("/{public_id}", response=DealerOut, summary="One dealer by its public id")
def get_dealer(request: HttpRequest, public_id: str) -> dict[str, Any]:
    return _dealer(dealer_get(public_id=public_id))
