"""The rewards pages at /club/rewards/: the catalogue with the member's points and tier, one reward, the
confirmation before points are spent, and the member's redemptions with their vouchers.

Redemptions are read through the member's own scope, so anyone else's id is a 404. The confirmation form
carries a one-time key, so a double click (or a reload of the POST) redeems once. A refusal (409) is
explained in words, never a 500.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from forecourt.core.errors import DomainError
from forecourt.loyalty.models import Reward, RewardOrder, RewardOrderStatus
from forecourt.loyalty.reward_presenters import cancel_reason_text, redemption_voucher
from forecourt.loyalty.reward_selectors import (
    Wallet,
    member_wallet,
    reward_order_cancel_reason,
    reward_order_deadline,
    reward_order_of,
    reward_order_status,
    reward_orders_of,
    reward_public,
    reward_stock_left,
    rewards_on_offer,
    tier_reaches,
)
from forecourt.loyalty.selectors import member_is_eligible, member_of
from forecourt.loyalty.services import member_for, reward_payment_start, reward_redeem
from forecourt.offers.presenters import campaign_headline
from forecourt.offers.selectors import voucher_effective_status
from forecourt.offers.views import payment_continue
from forecourt.payments import selectors as payment_selectors

# How often a redemption awaiting its payment asks whether the payment arrived (seconds).
POLL_SECONDS = 3


def refusal_text(error: DomainError) -> str:
    """What to tell a member whose redemption was refused, kindly and in their language."""
    details = error.details if isinstance(error.details, dict) else {}
    if error.code == "insufficient_points":
        return _("Not enough points yet: you have %(spendable)s spendable, this reward needs %(needed)s.") % {
            "spendable": details.get("spendable", 0),
            "needed": details.get("needed", 0),
        }
    if error.code == "reward_unavailable":
        return {
            "sold_out": _("Sorry, this reward is sold out."),
            "limit_reached": _("You have already redeemed this reward as often as allowed."),
            "not_started": _("This reward is not available yet."),
            "ended": _("This reward is no longer available."),
            "off_sale": _("This reward is no longer offered."),
        }.get(str(details.get("reason", "")), error.message)
    return error.message


def _wallet(request: HttpRequest) -> Wallet | None:
    if not request.user.is_authenticated:
        return None
    return member_wallet(request.user)


def _card(reward: Reward, wallet: Wallet | None) -> dict[str, Any]:
    member = wallet is not None and wallet.is_member
    return {
        "reward": reward,
        "headline": campaign_headline(reward.campaign),
        "stock_left": reward_stock_left(reward),
        "affordable": member and wallet is not None and wallet.spendable >= reward.points_cost,
        "shortfall": max(reward.points_cost - (wallet.spendable if wallet is not None else 0), 0),
        "tier_reached": (not member) or tier_reaches(wallet.tier if wallet else "standard", reward.min_tier),
    }


def _sign_in_url(next_path: str) -> str:
    return f"{reverse('accounts:sign-in')}?{urlencode({'next': next_path})}"


@never_cache
@require_GET
def catalogue(request: HttpRequest) -> HttpResponse:
    """Rewards on offer, with the member's spendable points and tier."""
    wallet = _wallet(request)
    cards = [_card(reward, wallet) for reward in rewards_on_offer()]
    return render(
        request,
        "loyalty/rewards/catalogue.html",
        {"wallet": wallet, "cards": cards, "sign_in_url": _sign_in_url(request.path)},
    )


def _reward_or_404(public_id: str) -> Reward:
    found = reward_public(public_id)
    if found is None:
        raise Http404(_("No such reward."))
    return found


@never_cache
@require_GET
def reward(request: HttpRequest, public_id: str) -> HttpResponse:
    """One reward, and — for a member — the confirmation before any point is spent."""
    found = _reward_or_404(public_id)
    wallet = _wallet(request)
    card = _card(found, wallet)
    context: dict[str, Any] = {
        **card,
        "wallet": wallet,
        "running": rewards_on_offer().filter(pk=found.pk).exists(),
        "sign_in_url": _sign_in_url(request.path),
        "providers": payment_selectors.online_providers_available() if found.cash_fen else [],
        # One key per rendered confirmation: submitting it twice redeems once.
        "idempotency_key": secrets.token_urlsafe(24),
        "after": (wallet.spendable - found.points_cost) if wallet is not None else 0,
        "payment_minutes": settings.LOYALTY_PAYMENT_MINUTES,
    }
    return render(request, "loyalty/rewards/reward.html", context)


def _start_payment(request: HttpRequest, order: RewardOrder) -> HttpResponse:
    back = reverse("loyalty-rewards:redemption", args=[order.public_id])
    try:
        start = reward_payment_start(
            order=order, actor=request.user, return_url=request.build_absolute_uri(back)
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(back)
    return payment_continue(
        request, start, back=back, qr_template="loyalty/rewards/pay_qr.html", context={"order": order}
    )


@login_required
@require_POST
def redeem(request: HttpRequest, public_id: str) -> HttpResponse:
    """Spend the points (and start paying a cash part): the confirmation form posts here."""
    found = _reward_or_404(public_id)
    back = reverse("loyalty-rewards:reward", args=[found.public_id])
    if not member_is_eligible(request.user):
        messages.error(request, _("Rewards are for members; staff accounts cannot redeem them."))
        return redirect(back)
    try:
        order = reward_redeem(
            member=member_for(request.user),
            reward=found,
            idempotency_key=request.POST.get("idempotency_key", ""),
            actor=request.user,
            provider=request.POST.get("provider") or None,
        )
    except DomainError as error:
        messages.error(request, refusal_text(error))
        return redirect(back)
    if reward_order_status(order) == RewardOrderStatus.AWAITING_PAYMENT:
        return _start_payment(request, order)
    if order.status == RewardOrderStatus.ISSUED:
        messages.success(request, _("Redeemed. Your voucher is ready: show its QR code at the counter."))
    return redirect("loyalty-rewards:redemption", public_id=order.public_id)


def _row(order: RewardOrder) -> dict[str, Any]:
    status = reward_order_status(order)
    voucher = redemption_voucher(order)
    reason = reward_order_cancel_reason(order) if status == RewardOrderStatus.CANCELLED else ""
    return {
        "order": order,
        "status": status,
        "voucher": voucher,
        "voucher_status": voucher_effective_status(voucher) if voucher is not None else "",
        "cancel_text": cancel_reason_text(reason) if reason else "",
        "pay_by": reward_order_deadline(order) if status == RewardOrderStatus.AWAITING_PAYMENT else None,
    }


@never_cache
@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    """The member's redemptions, newest first, each with its voucher."""
    member = member_of(request.user)
    orders = list(reward_orders_of(member)[:100]) if member is not None else []
    return render(
        request,
        "loyalty/rewards/mine.html",
        {"rows": [_row(order) for order in orders], "wallet": _wallet(request)},
    )


def _own_order(request: HttpRequest, public_id: str) -> RewardOrder:
    order = reward_order_of(request.user, public_id)
    if order is None:
        raise Http404(_("No such redemption."))
    return order


def _detail_context(order: RewardOrder) -> dict[str, Any]:
    row = _row(order)
    return {
        **row,
        "polling": row["status"] == RewardOrderStatus.AWAITING_PAYMENT,
        "poll_seconds": POLL_SECONDS,
        "headline": campaign_headline(order.reward.campaign),
    }


@never_cache
@login_required
@require_GET
def redemption(request: HttpRequest, public_id: str) -> HttpResponse:
    """One redemption: its voucher (with the link to its QR code) or where its payment stands."""
    order = _own_order(request, public_id)
    return render(request, "loyalty/rewards/redemption.html", _detail_context(order))


@never_cache
@login_required
@require_GET
def redemption_status(request: HttpRequest, public_id: str) -> HttpResponse:
    """The status block alone, polled by htmx while the cash part's payment is awaited."""
    order = _own_order(request, public_id)
    context = _detail_context(order)
    response = render(request, "loyalty/rewards/_redemption_status.html", context)
    if (
        context["status"] != RewardOrderStatus.AWAITING_PAYMENT
        and request.GET.get("was") == "awaiting_payment"
    ):
        # Paid (or lapsed) while the member was looking: reload the page with its voucher.
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_POST
def redemption_pay(request: HttpRequest, public_id: str) -> HttpResponse:
    """Go (back) to the payment page of a cash part still awaiting payment."""
    return _start_payment(request, _own_order(request, public_id))
