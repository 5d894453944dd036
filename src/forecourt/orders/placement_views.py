"""Placing an order from a saved configuration: the delivering dealer (the nearest delivery centre of the
buyer's city suggested) and the lock date, then one order per form however often it is sent.

The form carries an idempotency key generated when it is shown: a double tap or a retried request
replays the first answer (the same order) instead of placing a second one.
"""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from forecourt.catalog.models import SavedConfiguration
from forecourt.catalog.selectors import configuration_get, configuration_view
from forecourt.core import clock
from forecourt.core.errors import CoreErrorCode, DomainError, NotFound, field_error
from forecourt.core.idempotency import idempotent_call
from forecourt.core.money import Money
from forecourt.dealers.models import City, Dealer
from forecourt.dealers.selectors import city_get, dealer_get, dealers_in_city
from forecourt.orders import policy, selectors
from forecourt.orders.offer_views import chosen_codes, placement_offers_context, refusal_text
from forecourt.orders.services import order_place
from forecourt.orders.services.placement import intention_and_deposit
from forecourt.orders.views import error_field, error_text

PLACE_SCOPE = "orders.page.place"


def delivery_cities() -> list[City]:
    """Cities with at least one active dealer that delivers cars, in the finder's order."""
    return list(
        City.objects.filter(dealers__is_active=True, dealers__offers_delivery=True)
        .distinct()
        .order_by("province_en", "province", "name_en", "code")
    )


def dealer_choices(city: City | None) -> tuple[list[Dealer], Dealer | None]:
    """The delivering dealers of a city and the one suggested (nearest the city's centre)."""
    if city is None:
        return [], None
    dealers = dealers_in_city(city_code=city.code, service="delivery")
    suggested = selectors.delivery_dealer_suggest(city=city)
    if suggested is not None and suggested not in dealers:
        # No dealer in the city delivers: the nearest one elsewhere is offered first.
        dealers = [suggested, *dealers]
    elif suggested is not None:
        dealers = [suggested, *(dealer for dealer in dealers if dealer.pk != suggested.pk)]
    return dealers, suggested


def city_from(raw: str | None) -> City | None:
    if not raw:
        return None
    try:
        return city_get(code=raw)
    except NotFound:
        raise field_error(CoreErrorCode.INVALID, "city", _("Choose a city from the list.")) from None


def dealer_from(raw: str | None) -> Dealer | None:
    if not raw:
        return None
    try:
        return dealer_get(public_id=raw)
    except NotFound:
        raise field_error(CoreErrorCode.INVALID, "dealer", _("Choose a dealer from the list.")) from None


def _lock_date_from(raw: str | None) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise field_error(CoreErrorCode.INVALID, "lock_deadline", _("Choose a date.")) from None


def place_once(request: HttpRequest, *, body: dict[str, Any], perform: Any) -> str:
    """Run `perform` once per form (its idempotency key): a double-submit gets the first order back."""
    key = request.POST.get("idempotency_key", "")
    if not key or len(key) > 200:
        raise DomainError(
            CoreErrorCode.INVALID, _("This form has expired. Please send it again."), status=422
        )

    def _placed() -> tuple[int, Any]:
        order = perform()
        return 201, {"number": order.number}

    try:
        _status, answer = idempotent_call(
            scope=f"{PLACE_SCOPE}:{request.user.pk}", key=key, body=body, perform=_placed
        )
    except DomainError as error:
        if error.code == CoreErrorCode.IDEMPOTENCY_KEY_REUSED:
            raise DomainError(
                error.code, _("This form was already sent with other choices. Check your orders."), status=422
            ) from None
        raise
    return str(answer["number"])


def _previous_city(user: Any) -> str:
    last = selectors.orders_for_buyer(buyer=user).values_list("city__code", flat=True).first()
    return last or ""


def _place_context(
    request: HttpRequest, configuration: SavedConfiguration, data: Any, error: DomainError | None = None
) -> dict[str, Any]:
    view = configuration_view(share_code=configuration.share_code)
    cities = delivery_cities()
    city_code = data.get("city") or _previous_city(request.user)
    city = next((candidate for candidate in cities if candidate.code == city_code), None)
    dealers, suggested = dealer_choices(city)
    today = clock.local_now().date()
    intention, deposit = intention_and_deposit(configuration.total_fen)
    edit_url = reverse("catalog:configure", args=[configuration.trim.code])
    query = urlencode([("options", option) for option in configuration.option_codes])
    dealer_id = data.get("dealer") or (suggested.public_id if suggested else "")
    quoting_dealer = next((candidate for candidate in dealers if candidate.public_id == dealer_id), suggested)
    offers = placement_offers_context(request.user, configuration, quoting_dealer, chosen_codes(data))
    return {
        **offers,
        "configuration": configuration,
        "view": view,
        "trim": configuration.trim,
        "cities": cities,
        "city_code": city.code if city else "",
        "dealers": dealers,
        "suggested": suggested,
        "dealer_id": dealer_id,
        "lock_deadline": data.get("lock_deadline")
        or (today + timedelta(days=policy.lock_days())).isoformat(),
        "lock_min": today.isoformat(),
        "lock_max": (today + timedelta(days=policy.lock_max_days())).isoformat(),
        "intention": Money(intention),
        "deposit": Money(deposit),
        "idempotency_key": secrets.token_urlsafe(18),
        "error": error_text(error) if error else "",
        "error_field": error_field(error),
        "error_code": error.code if error else "",
        "is_consumer": bool(getattr(request.user, "is_consumer", False)),
        "edit_url": f"{edit_url}?{query}" if query else edit_url,
    }


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
def place(request: HttpRequest, share_code: str) -> HttpResponse:
    """Order a saved configuration: the delivering dealer and the lock date, then the order is placed."""
    try:
        configuration = configuration_get(share_code)
    except DomainError:
        raise Http404 from None
    if request.method == "GET":
        return render(request, "orders/place.html", _place_context(request, configuration, request.GET))
    data = request.POST
    try:
        city = city_from(data.get("city"))
        dealer = dealer_from(data.get("dealer"))
        lock_deadline = _lock_date_from(data.get("lock_deadline"))
        codes = chosen_codes(data)
        number = place_once(
            request,
            body={
                "configuration": configuration.share_code,
                "city": city.code if city else None,
                "dealer": dealer.public_id if dealer else None,
                "lock_deadline": lock_deadline.isoformat() if lock_deadline else None,
                "vouchers": sorted(codes),
            },
            perform=lambda: order_place(
                buyer=request.user,
                configuration=configuration,
                city=city,
                dealer=dealer,
                lock_deadline=lock_deadline,
                voucher_codes=codes,
            ),
        )
    except DomainError as error:
        context = _place_context(request, configuration, data, error)
        if isinstance(error.details, dict) and error.details.get("refused"):
            context["error"] = refusal_text(error)
        return render(request, "orders/place.html", context, status=error.status)
    messages.success(request, _("Your order is placed. Pay the intention money to reserve your car."))
    return redirect("orders:detail", number=number)


@require_GET
def dealer_options(request: HttpRequest) -> HttpResponse:
    """HTMX: the delivering dealers of the chosen city, the suggested one first and selected."""
    try:
        city = city_from(request.GET.get("city"))
    except DomainError:
        city = None
    dealers, suggested = dealer_choices(city)
    return render(
        request,
        "orders/_dealer_options.html",
        {
            "dealers": dealers,
            "suggested": suggested,
            "dealer_id": suggested.public_id if suggested else "",
            "city_code": city.code if city else "",
        },
    )
