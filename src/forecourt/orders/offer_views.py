"""Coupons on the order pages: choosing them when placing an order (with an htmx preview of what they
take off), adding or removing them on the buyer's order before the lock, and the rows both the buyer
and the dealer see (what each coupon gave, and whether it has been written off).

The quote comes from offers (`offers_quote`, no writes); the order keeps what was applied in
`applied_offers`. A refused coupon is explained with its reason, never a 500.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from forecourt.catalog.models import SavedConfiguration
from forecourt.catalog.selectors import configuration_get
from forecourt.core.errors import DomainError, NotFound
from forecourt.core.money import Money
from forecourt.dealers.models import Dealer
from forecourt.offers import selectors as offer_selectors
from forecourt.offers import services as offer_services
from forecourt.orders import selectors
from forecourt.orders.models import BEFORE_LOCK, Order
from forecourt.orders.services import order_offers_apply
from forecourt.orders.services.offers import order_offer_codes

# More boxes than an order may carry are never read (the quote refuses beyond its own maximum anyway).
MAX_CHOSEN = 20


def code_grouped(code: str) -> str:
    """ABCDEFGH… → ABCD-EFGH-…: read aloud and typed in groups of four."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def offers_url() -> str:
    # The campaigns page belongs to offers' pages; a plain path if they are not mounted.
    try:
        return reverse("offers:campaigns")
    except NoReverseMatch:
        return "/offers/"


def chosen_codes(data: Any) -> list[str]:
    return [str(code)[:40] for code in data.getlist("voucher_codes")[:MAX_CHOSEN] if code]


@dataclass(frozen=True)
class CouponChoice:
    code: str
    display_code: str
    name: str
    kind: str
    nominal: str
    valid_until: Any
    checked: bool


def _nominal(voucher: Any) -> str:
    if voucher.percent_off_bp:
        percent = f"{voucher.percent_off_bp / 100:g}%"
        if voucher.percent_cap_fen:
            return _("%(percent)s off, up to %(cap)s") % {
                "percent": percent,
                "cap": Money(voucher.percent_cap_fen).format(),
            }
        return _("%(percent)s off") % {"percent": percent}
    return str(Money(voucher.face_value_fen).format())


def coupon_choices(user: Any, *, chosen: list[str], applied: list[str] | None = None) -> list[CouponChoice]:
    """The buyer's coupons usable on a car order (and those already on the order), as checkboxes."""
    applied = applied or []
    # Codes compare without separators, in capitals (as offers reads them).
    wanted = {"".join(ch for ch in code.upper() if ch.isalnum()) for code in chosen}
    rows: dict[str, Any] = {}
    usable = offer_selectors.vouchers_usable_by(user).select_related("campaign").order_by("valid_until", "pk")
    for voucher in usable:
        if voucher.applies_to_orders:
            rows[voucher.code] = voucher
    if applied:
        for voucher in offer_selectors.vouchers_of(user).select_related("campaign").filter(code__in=applied):
            rows.setdefault(voucher.code, voucher)
    return [
        CouponChoice(
            code=voucher.code,
            display_code=code_grouped(voucher.code),
            name=voucher.campaign.display_name,
            kind=voucher.get_kind_display(),
            nominal=_nominal(voucher),
            valid_until=voucher.valid_until,
            checked=voucher.code in wanted,
        )
        for voucher in rows.values()
    ]


@dataclass(frozen=True)
class OfferRow:
    code: str
    display_code: str
    name: str
    kind: str
    value: Money
    status: str
    status_label: str


def offer_rows(order: Order) -> list[OfferRow]:
    """What the order records for each coupon, with whether it is still applied or already written off."""
    standing = {voucher.code: voucher for voucher in offer_selectors.vouchers_on_order(order.number)}
    rows = []
    for record in order.applied_offers or []:
        code = str(record.get("code", ""))
        voucher = standing.get(code)
        status = voucher.status if voucher is not None else ""
        if status == "redeemed":
            label = _("Written off")
        elif status == "applied":
            label = _("Applied")
        else:
            label = _("Released") if order.is_closed else ""
        rows.append(
            OfferRow(
                code=code,
                display_code=code_grouped(code),
                name=voucher.campaign.display_name if voucher is not None else str(record.get("name", "")),
                kind=voucher.get_kind_display() if voucher is not None else str(record.get("kind", "")),
                value=Money(int(record.get("value_fen", 0)), order.currency),
                status=status,
                status_label=label,
            )
        )
    return rows


def can_change_offers(order: Order) -> bool:
    return not order.is_closed and order.effective_status in BEFORE_LOCK


def order_offers_context(order: Order, user: Any) -> dict[str, Any]:
    """The coupon section of the buyer's order page."""
    editable = can_change_offers(order)
    applied = order_offer_codes(order)
    return {
        "offer_rows": offer_rows(order),
        "offers_editable": editable,
        "coupon_choices": coupon_choices(user, chosen=applied, applied=applied) if editable else [],
        "offers_url": offers_url(),
        "floor": Money(order.floor_fen, order.currency),
    }


def refusal_text(error: DomainError) -> str:
    """Each refused coupon with its reason (the service's 409 lists them all), else the error's message."""
    details = error.details
    if isinstance(details, dict) and isinstance(details.get("refused"), list):
        parts = [
            f"{code_grouped(str(item.get('code', '')))}: {item.get('message', '')}"
            for item in details["refused"]
            if isinstance(item, dict)
        ]
        if parts:
            return " · ".join(parts)
    return error.message


# --- placing an order: the preview ------------------------------------------------------------------


@dataclass(frozen=True)
class PreviewLine:
    display_code: str
    name: str
    value: Money


@dataclass(frozen=True)
class PreviewRefusal:
    display_code: str
    reason: str
    message: str


@dataclass(frozen=True)
class OfferPreview:
    price: Money
    lines: list[PreviewLine]
    discount: Money
    total: Money
    floor: Money
    floor_reached: bool
    refused: list[PreviewRefusal]


def offer_preview(quote: offer_services.OfferQuote, names: dict[str, str] | None = None) -> OfferPreview:
    """A quote as the page shows it; `floor_reached` when the floor (or a cap) held the discount back."""
    names = names or {}
    reached = quote.total_fen <= quote.floor_fen and bool(quote.lines)
    return OfferPreview(
        price=Money(quote.vehicle_price_fen),
        lines=[
            PreviewLine(
                code_grouped(line.code), names.get(line.code) or line.campaign_name, Money(line.value_fen)
            )
            for line in quote.lines
        ],
        discount=Money(quote.discount_fen),
        total=Money(quote.total_fen),
        floor=Money(quote.floor_fen),
        floor_reached=reached or any(r.reason == "floor_reached" for r in quote.refused),
        refused=[PreviewRefusal(code_grouped(r.code), r.reason, r.message) for r in quote.refused],
    )


def placement_quote(
    *, user: Any, configuration: SavedConfiguration, dealer: Dealer, codes: list[str]
) -> offer_services.OfferQuote:
    """What the chosen coupons take off this configuration at this dealer (no order yet, no writes)."""
    return offer_services.offers_quote(
        holder=user,
        codes=codes,
        trim_code=configuration.trim.code,
        model_code=configuration.trim.model.code,
        city_code=dealer.city.code,
        dealer_public_id=dealer.public_id,
        vehicle_price_fen=configuration.total_fen,
    )


def placement_offers_context(
    user: Any, configuration: SavedConfiguration, dealer: Dealer | None, codes: list[str]
) -> dict[str, Any]:
    """The coupon section of the place-order page: the checkboxes and, once some are chosen, the preview."""
    preview = None
    if codes and dealer is not None:
        preview = offer_preview(
            placement_quote(user=user, configuration=configuration, dealer=dealer, codes=codes)
        )
    return {
        "coupon_choices": coupon_choices(user, chosen=codes),
        "offers_url": offers_url(),
        "offer_preview": preview,
        "offers_need_dealer": bool(codes) and dealer is None,
    }


@never_cache
@require_POST
@login_required
def place_offers_preview(request: HttpRequest, share_code: str) -> HttpResponse:
    """HTMX: the price, each chosen coupon's value, the total and the floor, for the form as it stands."""
    from forecourt.orders.placement_views import city_from, dealer_choices, dealer_from

    try:
        configuration = configuration_get(share_code)
    except DomainError:
        raise Http404 from None
    try:
        dealer = dealer_from(request.POST.get("dealer"))
        if dealer is None:
            dealer = dealer_choices(city_from(request.POST.get("city")))[1]
    except DomainError:
        dealer = None
    context = placement_offers_context(request.user, configuration, dealer, chosen_codes(request.POST))
    return render(request, "orders/_offer_preview.html", context)


# --- the buyer's order: adding and removing coupons -------------------------------------------------


@require_POST
@login_required
def order_offers(request: HttpRequest, number: str) -> HttpResponse:
    """Set the order's coupons to exactly the boxes ticked (before the lock); a refusal is explained."""
    try:
        order = selectors.order_get_for_buyer(buyer=request.user, number=number)
    except NotFound:
        raise Http404 from None
    try:
        updated = order_offers_apply(order=order, codes=chosen_codes(request.POST), actor=request.user)
    except DomainError as error:
        messages.error(request, refusal_text(error))
        return redirect(f"{reverse('orders:detail', args=[order.number])}#order-offers")
    if updated.discount_fen:
        messages.success(
            request,
            _("Your coupons are applied: %(discount)s off, the total is now %(total)s.")
            % {"discount": Money(updated.discount_fen).format(), "total": updated.total.format()},
        )
    else:
        messages.success(request, _("No coupons on this order now."))
    return redirect(f"{reverse('orders:detail', args=[order.number])}#order-offers")
