"""Reads of the dealer network: nearest dealers, dealers in a city, one dealer, the cities."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from forecourt.core.errors import CoreErrorCode, DomainError, NotFound
from forecourt.dealers.geo import MAX_DISTANCE_KM, bounding_box, haversine_km
from forecourt.dealers.models import SERVICES, City, Dealer

__all__ = [
    "SERVICES",
    "DealerDistance",
    "cities_all",
    "city_get",
    "dealer_get",
    "dealer_nearest",
    "dealers_in_city",
    "invalid_input",
]

# The first search radius; it grows by GROWTH until enough dealers are inside the circle.
_FIRST_RADIUS_KM = 20.0
_GROWTH = 3.0


@dataclass(frozen=True)
class DealerDistance:
    dealer: Dealer
    distance_km: float


def invalid_input(field: str, message: str, **extra: Any) -> DomainError:
    """A 422 naming the offending field, in the API's shared error shape."""
    return DomainError(
        CoreErrorCode.INVALID,
        _("The request is not valid."),
        status=422,
        details=[{"field": field, "message": message, **extra}],
    )


def _check_service(service: str | None) -> None:
    if service is not None and service not in SERVICES:
        raise invalid_input(
            "service",
            _("Unknown service. Choose one of: %(allowed)s.") % {"allowed": ", ".join(SERVICES)},
            allowed=list(SERVICES),
        )


def _active_dealers(*, service: str | None, city_code: str | None) -> QuerySet[Dealer]:
    _check_service(service)
    dealers = Dealer.objects.filter(is_active=True)
    if service is not None:
        dealers = dealers.filter(**{f"offers_{service}": True})
    if city_code is not None:
        dealers = dealers.filter(city=city_get(code=city_code))
    return dealers


def _coordinate(value: float | Decimal, *, field: str, bound: int) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise invalid_input(field, _("Give a number of degrees.")) from None
    if not math.isfinite(number) or not -bound <= number <= bound:
        raise invalid_input(field, _("Must be between -%(bound)s and %(bound)s.") % {"bound": bound})
    return number


def _box_filter(latitude: float, longitude: float, radius_km: float) -> Q:
    box = bounding_box(latitude, longitude, radius_km)
    # Decimal bounds: the columns are decimals, and comparing them with floats differs by database.
    longitudes = Q()
    for low, high in box.longitude_ranges:
        longitudes |= Q(longitude__gte=Decimal(f"{low:.6f}"), longitude__lte=Decimal(f"{high:.6f}"))
    latitudes = Q(
        latitude__gte=Decimal(f"{box.latitude_min:.6f}"), latitude__lte=Decimal(f"{box.latitude_max:.6f}")
    )
    return latitudes & longitudes


def dealer_nearest(
    *,
    latitude: float | Decimal,
    longitude: float | Decimal,
    service: str | None = None,
    limit: int = 10,
    city_code: str | None = None,
) -> list[DealerDistance]:
    """Active dealers nearest a point, by great-circle distance ascending; optionally by service or city.

    A bounding box in SQL keeps the candidates few: it starts small and widens until at least
    `limit` candidates lie inside the search circle (or every matching dealer is in), and exact
    haversine distances are then computed in Python. Ties are broken by public id, so the order is stable.
    """
    lat = _coordinate(latitude, field="latitude", bound=90)
    lng = _coordinate(longitude, field="longitude", bound=180)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise invalid_input("limit", _("Must be a whole number of at least 1."))
    dealers = _active_dealers(service=service, city_code=city_code)
    wanted = min(limit, dealers.count())
    if wanted == 0:
        return []

    radius = _FIRST_RADIUS_KM
    while True:
        # A circle of radius ≥ half the circumference holds the whole Earth: fall back to every dealer.
        whole_earth = radius >= MAX_DISTANCE_KM
        candidates = dealers if whole_earth else dealers.filter(_box_filter(lat, lng, radius))
        measured = [
            (haversine_km(lat, lng, row_lat, row_lng), row_public_id, row_pk)
            for row_pk, row_public_id, row_lat, row_lng in candidates.values_list(
                "pk", "public_id", "latitude", "longitude"
            )
        ]
        # Every dealer outside the box is further than `radius`, so once `wanted` candidates lie
        # within the circle, the nearest `wanted` overall are among the candidates.
        if whole_earth or sum(1 for distance, _id, _pk in measured if distance <= radius) >= wanted:
            break
        radius *= _GROWTH

    nearest = sorted(measured)[:wanted]
    by_pk = Dealer.objects.select_related("city").in_bulk([pk for _distance, _id, pk in nearest])
    return [DealerDistance(dealer=by_pk[pk], distance_km=distance) for distance, _id, pk in nearest]


def dealers_in_city(*, city_code: str, service: str | None = None) -> list[Dealer]:
    """Active dealers in a city, by name; optionally only those offering `service`."""
    return list(_active_dealers(service=service, city_code=city_code).select_related("city").order_by("name"))


def dealer_get(*, public_id: str, include_inactive: bool = False) -> Dealer:
    """One dealer by its public id (never by database key); raises NotFound."""
    dealers = Dealer.objects.select_related("city")
    if not include_inactive:
        dealers = dealers.filter(is_active=True)
    dealer = dealers.filter(public_id=public_id).first() if isinstance(public_id, str) else None
    if dealer is None:
        raise NotFound(_("No such dealer."))
    return dealer


def city_get(*, code: str) -> City:
    """One city by its code; raises NotFound."""
    city = City.objects.filter(code=code).first() if isinstance(code, str) else None
    if city is None:
        raise NotFound(_("No such city."))
    return city


def cities_all() -> list[City]:
    """Every city, by province then city in pinyin order (the order of the finder's city picker)."""
    return list(City.objects.order_by("province_en", "province", "name_en", "code"))
