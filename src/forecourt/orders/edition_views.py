"""Limited-edition pages: what is on sale with the units left per city, and reserving one unit.

Reserving places a limited-edition order with a hold on one unit (15 minutes unless the edition says
otherwise); the order page then counts the hold down while the buyer pays the intention money.
Sold out and "every unit is held right now" are told plainly, and the answer writes nothing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from forecourt.core import clock
from forecourt.core.errors import DomainError, NotFound
from forecourt.core.money import Money
from forecourt.dealers.models import City
from forecourt.orders import selectors
from forecourt.orders.errors import OrderErrorCode
from forecourt.orders.models import LimitedEdition, OrderStatus
from forecourt.orders.placement_views import (
    city_from,
    dealer_choices,
    dealer_from,
    delivery_cities,
    place_once,
)
from forecourt.orders.selectors import EditionAvailability
from forecourt.orders.services import order_place
from forecourt.orders.views import error_field, error_text


@dataclass(frozen=True)
class EditionPage:
    edition: LimitedEdition
    price: Money | None
    stocks: list[EditionAvailability]
    # "upcoming", "on_sale", "all_held", "sold_out" or "ended".
    state: str

    @property
    def units_total(self) -> int:
        return sum(stock.units_total for stock in self.stocks)

    @property
    def units_free(self) -> int:
        return sum(max(stock.units_free, 0) for stock in self.stocks)

    @property
    def units_sold(self) -> int:
        return sum(stock.units_sold for stock in self.stocks)

    @property
    def first_hold_expires_at(self) -> datetime | None:
        times = [stock.first_hold_expires_at for stock in self.stocks if stock.first_hold_expires_at]
        return min(times) if times else None

    @property
    def is_national(self) -> bool:
        return any(stock.stock.city_id is None for stock in self.stocks)


def _state(edition: LimitedEdition, stocks: list[EditionAvailability], moment: datetime) -> str:
    if moment < edition.sale_starts_at:
        return "upcoming"
    if not edition.is_on_sale(moment):
        return "ended"
    if stocks and all(stock.sold_out for stock in stocks):
        return "sold_out"
    if all(stock.units_free <= 0 for stock in stocks):
        return "all_held"
    return "on_sale"


def _page(edition: LimitedEdition, price: Money | None, stocks: list[EditionAvailability]) -> EditionPage:
    return EditionPage(
        edition=edition, price=price, stocks=stocks, state=_state(edition, stocks, clock.now())
    )


def _edition_page(code: str) -> EditionPage:
    for offer in selectors.editions_on_sale():
        if offer.edition.code == code:
            return _page(offer.edition, offer.price, offer.stocks)
    try:
        edition = selectors.edition_get(code=code, on_sale_only=False)
    except NotFound:
        raise Http404 from None
    if not edition.is_active:
        raise Http404
    stocks = [selectors.edition_availability(stock=stock) for stock in edition.stocks.select_related("city")]
    return _page(edition, None, stocks)


def _reserve_cities(page: EditionPage) -> list[City]:
    """Where a unit can be taken: cities with units of their own, or every delivering city (national pool)."""
    if page.is_national:
        return delivery_cities()
    return [stock.stock.city for stock in page.stocks if stock.stock.city is not None]


def _edition_context(
    request: HttpRequest, page: EditionPage, data: Any, error: DomainError | None = None
) -> dict[str, Any]:
    cities = _reserve_cities(page)
    city_code = data.get("city", "")
    city = next((candidate for candidate in cities if candidate.code == city_code), None)
    dealers, suggested = dealer_choices(city)
    existing = None
    if request.user.is_authenticated:
        existing = (
            selectors.orders_for_buyer(buyer=request.user)
            .filter(edition=page.edition)
            .exclude(status=OrderStatus.CANCELLED)
            .first()
        )
    existing_number = ""
    if error is not None and error.code == OrderErrorCode.ALREADY_ORDERED and isinstance(error.details, dict):
        existing_number = str(error.details.get("order") or "")
    return {
        "page": page,
        "edition": page.edition,
        "cities": cities,
        "city_code": city.code if city else "",
        "dealers": dealers,
        "dealer_id": data.get("dealer") or (suggested.public_id if suggested else ""),
        "existing": existing,
        "existing_number": existing_number,
        "idempotency_key": secrets.token_urlsafe(18),
        "error": error_text(error) if error else "",
        "error_field": error_field(error),
        "error_code": error.code if error else "",
    }


@never_cache
@require_GET
def editions(request: HttpRequest) -> HttpResponse:
    pages = [_page(offer.edition, offer.price, offer.stocks) for offer in selectors.editions_on_sale()]
    return render(request, "orders/editions.html", {"pages": pages})


@never_cache
@require_GET
def edition_detail(request: HttpRequest, code: str) -> HttpResponse:
    page = _edition_page(code)
    return render(request, "orders/edition.html", _edition_context(request, page, request.GET))


@require_POST
@login_required
def edition_reserve(request: HttpRequest, code: str) -> HttpResponse:
    """Reserve one unit: a limited-edition order with a hold, then the order page to pay for it."""
    page = _edition_page(code)
    data = request.POST
    try:
        if page.state in ("upcoming", "ended"):
            raise DomainError(
                OrderErrorCode.EDITION_NOT_ON_SALE, _("This limited edition is not on sale now."), status=409
            )
        city = city_from(data.get("city"))
        dealer = dealer_from(data.get("dealer"))
        number = place_once(
            request,
            body={
                "edition": page.edition.code,
                "city": city.code if city else None,
                "dealer": dealer.public_id if dealer else None,
            },
            perform=lambda: order_place(buyer=request.user, edition=page.edition, city=city, dealer=dealer),
        )
    except DomainError as error:
        fresh = _edition_page(code)
        return render(
            request, "orders/edition.html", _edition_context(request, fresh, data, error), status=error.status
        )
    messages.success(
        request,
        _("A unit is reserved for you for %(minutes)s minutes: pay the intention money to make it yours.")
        % {"minutes": page.edition.hold_minutes},
    )
    return redirect("orders:detail", number=number)
