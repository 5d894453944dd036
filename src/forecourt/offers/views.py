"""Consumer pages of offers: running campaigns, a campaign with its claim button, my coupons in tabs, and
one voucher with its QR code for the store (polling its status so the holder sees the write-off at once).

Vouchers are read through the holder's own scope, so anyone else's code is a 404. Actions call one service;
a refused claim (409) is explained in words, never a 500.
"""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from forecourt.accounts.models import User
from forecourt.core.errors import DomainError
from forecourt.core.qrcodes import qr_svg
from forecourt.offers import selectors
from forecourt.offers.models import Campaign, CouponKind, Voucher, VoucherStatus
from forecourt.offers.presenters import (
    campaign_headline,
    campaign_remaining_percent,
    voucher_qr,
)
from forecourt.offers.qr import public_key_jwk
from forecourt.offers.services import campaign_claim, voucher_pay_start, voucher_refund
from forecourt.offers.services.claims import payment_deadline
from forecourt.payments import selectors as payment_selectors
from forecourt.payments.services import PaymentStart

# The order the campaign page lists kinds in: money off the car first, then gifts and partner services.
KIND_ORDER = (
    CouponKind.CASH_OFF,
    CouponKind.PERCENT_OFF,
    CouponKind.PAID_MULTIPLIER,
    CouponKind.GIFT,
    CouponKind.MERCHANT_SERVICE,
)
TABS = (("active", "Active"), ("used", "Used"), ("expired", "Expired"))
# How often an active voucher's page asks whether it was written off (seconds).
POLL_SECONDS = 4


def claim_refusal_text(error: DomainError) -> str:
    """What to tell a person whose claim was refused, kindly and in their language."""
    if error.code == "budget_exhausted":
        return _("Sorry, this campaign's coupons have all been claimed. Look at the other offers.")
    if error.code == "limit_reached":
        return _("You already have this coupon: find it in My coupons.")
    if error.code == "not_eligible":
        reason = error.details.get("reason") if isinstance(error.details, dict) else ""
        return {
            "role": _("Coupons are for customers; staff accounts cannot claim them."),
            "not_started": _("This campaign has not started yet."),
            "ended": _("This campaign has ended."),
            "channel": _("This coupon can only be claimed in the app or at a dealer."),
            "expired": _("This campaign's coupons are no longer valid."),
        }.get(str(reason), error.message)
    return error.message


def _campaign_card(campaign: Campaign) -> dict[str, Any]:
    return {
        "campaign": campaign,
        "headline": campaign_headline(campaign),
        "remaining_percent": campaign_remaining_percent(campaign),
    }


@require_GET
def campaigns(request: HttpRequest) -> HttpResponse:
    """Running campaigns, grouped by kind."""
    running = list(selectors.campaigns_running().select_related("merchant").order_by("ends_at", "pk"))
    groups = []
    for kind in KIND_ORDER:
        cards = [_campaign_card(campaign) for campaign in running if campaign.kind == kind]
        if cards:
            groups.append({"kind": kind, "label": CouponKind(kind).label, "cards": cards})
    return render(request, "offers/campaigns.html", {"groups": groups})


def _public_campaign(public_id: str) -> Campaign:
    campaign = selectors.campaign_public(public_id)
    if campaign is None:
        raise Http404(_("No such campaign."))
    return campaign


@require_GET
def campaign(request: HttpRequest, public_id: str) -> HttpResponse:
    found = _public_campaign(public_id)
    held = 0
    if request.user.is_authenticated:
        held = Voucher.objects.filter(campaign=found, holder=request.user).count()
    return render(
        request,
        "offers/campaign.html",
        {
            **_campaign_card(found),
            "running": found.is_running(),
            "held": held,
            "sign_in_url": f"{reverse('accounts:sign-in')}?{urlencode({'next': request.path})}",
        },
    )


@require_POST
def claim(request: HttpRequest, public_id: str) -> HttpResponse:
    """Claim from the campaign page (htmx swaps in the answer; without JavaScript, a redirect)."""
    found = _public_campaign(public_id)
    back = reverse("offers:campaign", args=[found.public_id])
    is_htmx = request.headers.get("HX-Request") == "true"
    if not request.user.is_authenticated:
        sign_in = f"{reverse('accounts:sign-in')}?{urlencode({'next': back})}"
        if is_htmx:
            response = HttpResponse(status=204)
            response["HX-Redirect"] = sign_in
            return response
        return redirect_to_login(back)
    try:
        voucher = campaign_claim(campaign=found, holder=request.user)
    except DomainError as error:
        if not is_htmx:
            messages.error(request, claim_refusal_text(error))
            return redirect(back)
        context = {"refused": True, "code": error.code, "message": claim_refusal_text(error)}
        return render(request, "offers/_claim_result.html", context)
    if not is_htmx:
        messages.success(request, _("Claimed. Show this code at the store."))
        return redirect("offers:voucher", code=voucher.code)
    return render(request, "offers/_claim_result.html", {"refused": False, "voucher": voucher})


@never_cache
@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    tab = request.GET.get("tab", "active")
    if tab not in selectors.VOUCHER_TABS:
        tab = "active"
    vouchers = list(selectors.vouchers_in_tab(_person(request), tab)[:200])
    rows = [
        {
            "voucher": voucher,
            "status": selectors.voucher_effective_status(voucher),
            "headline": campaign_headline(voucher),
        }
        for voucher in vouchers
    ]
    tabs = [
        {"key": key, "label": _(label), "count": selectors.vouchers_in_tab(_person(request), key).count()}
        for key, label in TABS
    ]
    return render(request, "offers/mine.html", {"tab": tab, "tabs": tabs, "rows": rows})


def _person(request: HttpRequest) -> User:
    """The signed-in visitor (the views using this require sign-in)."""
    return cast(User, request.user)


def _holder_voucher(request: HttpRequest, code: str) -> Voucher:
    voucher = selectors.voucher_of_holder(_person(request), str(code).upper()[:20])
    if voucher is None:
        raise Http404(_("No such voucher."))
    return voucher


def _status_context(voucher: Voucher) -> dict[str, Any]:
    status = selectors.voucher_effective_status(voucher)
    redemption = selectors.voucher_standing_redemption(voucher) if status == VoucherStatus.REDEEMED else None
    return {
        "voucher": voucher,
        "status": status,
        "status_label": VoucherStatus(status).label,
        "redemption": redemption,
        "polling": status in (VoucherStatus.ACTIVE, VoucherStatus.APPLIED, VoucherStatus.PENDING_PAYMENT),
        "poll_seconds": POLL_SECONDS,
        "pay_by": payment_deadline(voucher) if status == VoucherStatus.PENDING_PAYMENT else None,
    }


@never_cache
@login_required
@require_GET
def voucher(request: HttpRequest, code: str) -> HttpResponse:
    found = _holder_voucher(request, code)
    context = _status_context(found)
    providers = payment_selectors.online_providers_available()
    context.update(
        {
            "headline": campaign_headline(found),
            "qr_svg": qr_svg(voucher_qr(found)) if context["status"] == VoucherStatus.ACTIVE else "",
            "code_groups": [found.code[i : i + 4] for i in range(0, len(found.code), 4)],
            "providers": providers,
            "refundable": found.kind == CouponKind.PAID_MULTIPLIER
            and found.paid_at is not None
            and context["status"] in (VoucherStatus.ACTIVE, VoucherStatus.EXPIRED),
        }
    )
    return render(request, "offers/voucher.html", context)


@never_cache
@login_required
@require_GET
def voucher_status(request: HttpRequest, code: str) -> HttpResponse:
    """The status block alone, polled by htmx while the voucher can still change."""
    found = _holder_voucher(request, code)
    response = render(request, "offers/_voucher_status.html", _status_context(found))
    if (
        selectors.voucher_effective_status(found) != VoucherStatus.ACTIVE
        and request.GET.get("was") == "active"
    ):
        # It changed while the holder was looking (written off): reload the page without its QR.
        response["HX-Refresh"] = "true"
    return response


def payment_continue(
    request: HttpRequest, start: PaymentStart, *, back: str, qr_template: str, context: dict[str, Any]
) -> HttpResponse:
    """Where the payer goes once a payment started: the provider's page, the QR code to scan (`qr_template`
    with `context` and `qr_svg`), or `back` — with a word when this browser cannot pay that way (WeChat
    Pay's in-app payment outside WeChat). The rewards catalogue's cash parts go the same way."""
    if start.kind == "redirect" and start.url:
        return redirect(start.url)
    if start.kind == "qr" and start.qr_payload:
        return render(request, qr_template, {**context, "qr_svg": qr_svg(start.qr_payload)})
    if start.kind != "done":
        messages.info(
            request, _("Open this page inside WeChat to pay with WeChat Pay, or choose another way.")
        )
    return redirect(back)


@login_required
@require_POST
def voucher_pay(request: HttpRequest, code: str) -> HttpResponse:
    found = _holder_voucher(request, code)
    back = reverse("offers:voucher", args=[found.code])
    try:
        start = voucher_pay_start(
            voucher=found,
            provider=request.POST.get("provider", "sandbox"),
            return_url=request.build_absolute_uri(back),
            actor=_person(request),
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(back)
    return payment_continue(
        request, start, back=back, qr_template="offers/pay_qr.html", context={"voucher": found}
    )


@login_required
@require_POST
def voucher_refund_view(request: HttpRequest, code: str) -> HttpResponse:
    found = _holder_voucher(request, code)
    try:
        voucher_refund(voucher=found, actor=_person(request))
        messages.success(
            request, _("Refunded: the money goes back the way you paid, and the coupon is void.")
        )
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("offers:voucher", code=found.code)


@require_GET
def voucher_key(request: HttpRequest) -> JsonResponse:
    """The public key that verifies voucher QR signatures (a JWK for WebCrypto)."""
    return JsonResponse(public_key_jwk())
