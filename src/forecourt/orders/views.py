"""Consumer pages of orders: order a saved configuration, the order's task list, paying, changing and
cancelling it, and my orders. Limited editions have their own pages (`edition_views.py`).

Every page is for the signed-in buyer; an order is read through the buyer's own scope, so anyone
else's order number is a 404. Actions post a form (with CSRF), call one service and come back to the
order page with what happened as a message: a refused action is explained, never a 500.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from forecourt.catalog.configurator import QuoteLine
from forecourt.catalog.models import SavedConfiguration
from forecourt.catalog.selectors import configuration_get
from forecourt.core import clock
from forecourt.core.errors import CoreErrorCode, DomainError, NotFound, field_error
from forecourt.core.money import Money
from forecourt.core.qrcodes import qr_svg
from forecourt.orders import selectors
from forecourt.orders.models import Order, OrderStatus, PaymentStage
from forecourt.orders.offer_views import PreviewRefusal, code_grouped, order_offers_context
from forecourt.orders.services import (
    order_cancel,
    order_change_configuration,
    order_delivery_book,
    order_lock,
    order_pay_start,
    refund_due_on_cancel,
)
from forecourt.orders.services.cancellation import kept_on_cancel
from forecourt.orders.services.offers import order_offer_codes, order_offers_quote
from forecourt.orders.services.placement import requote_under
from forecourt.payments import selectors as payment_selectors

# The status a task is done at: its time in the task list is when the order reached that status.
TASK_REACHED = {
    "intention": OrderStatus.INTENTION_PAID,
    "deposit": OrderStatus.DEPOSIT_PAID,
    "lock": OrderStatus.LOCKED,
    "allocation": OrderStatus.ALLOCATED,
    "final": OrderStatus.FINAL_PAID,
    "delivery_booking": OrderStatus.READY_FOR_DELIVERY,
    "delivery": OrderStatus.DELIVERED,
}
CHANGE_CHOICES = 10


# --- shared with the workspace pages -------------------------------------------------------------


def error_text(error: DomainError) -> str:
    """What to tell the person: a field's own message says more than a generic "invalid"."""
    details = error.details
    if isinstance(details, list) and details and isinstance(details[0], dict) and details[0].get("message"):
        return str(details[0]["message"])
    return error.message


def error_field(error: DomainError | None) -> str:
    if error is None:
        return ""
    details = error.details
    if isinstance(details, list) and details and isinstance(details[0], dict):
        return str(details[0].get("field") or "")
    return ""


@dataclass(frozen=True)
class TaskRow:
    key: str
    title: str
    state: str
    detail: dict[str, Any]
    done_at: datetime | None


def price_lines(order: Order) -> list[QuoteLine]:
    """The order's locked-in quote lines, named in the page's language."""
    return [QuoteLine.from_record(record, order.currency) for record in order.lines]


def order_context(order: Order) -> dict[str, Any]:
    """What the buyer's and the dealer's order pages both show: tasks, money, lines, car, history."""
    history = selectors.order_history(order)
    reached = {change.to_status: change.at for change in history}
    tasks = [
        TaskRow(
            key=task.key,
            title=task.title,
            state=task.state,
            detail=task.detail,
            done_at=reached.get(TASK_REACHED.get(task.key, "")) if task.state == "done" else None,
        )
        for task in selectors.order_tasks(order)
    ]
    effective = order.effective_status
    return {
        "order": order,
        "status_label": OrderStatus(effective).label,
        "effective_status": effective,
        "tasks": tasks,
        "next_task": next((task for task in tasks if task.state in ("next", "waiting")), None),
        "amounts": selectors.order_amounts(order),
        "due": selectors.order_due(order),
        "refundable": Money(refund_due_on_cancel(order), order.currency),
        "lines": price_lines(order),
        "history": [
            (change, OrderStatus(change.to_status).label if change.to_status in OrderStatus.values else "")
            for change in history
        ],
        "late_days": selectors.late_delivery_days(order) if order.promised_delivery_date else [],
        "late_points": sum(order.late_days.values_list("points", flat=True)),
        "can_book_delivery": order.status in (OrderStatus.FINAL_PAID, OrderStatus.READY_FOR_DELIVERY),
        "delivery_min": clock.local_now().strftime("%Y-%m-%dT%H:%M"),
    }


def parse_local_datetime(raw: str | None, field: str) -> datetime:
    """A `datetime-local` field's value as an aware time in Shanghai."""
    try:
        moment = datetime.fromisoformat(raw or "")
    except ValueError:
        raise field_error(CoreErrorCode.INVALID, field, _("Choose a date and time.")) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=clock.SHANGHAI)


# --- the buyer's order ----------------------------------------------------------------------------


def _buyer_order(request: HttpRequest, number: str) -> Order:
    try:
        return selectors.order_get_for_buyer(buyer=request.user, number=number)
    except NotFound:
        raise Http404 from None


def _detail_url(order: Order, **query: str) -> str:
    url = reverse("orders:detail", args=[order.number])
    return f"{url}?{urlencode(query)}" if query else url


PROVIDER_LABELS = {
    "sandbox": gettext_lazy("Sandbox (test payment)"),
    "alipay": gettext_lazy("Alipay"),
    "wechatpay": gettext_lazy("WeChat Pay"),
}


def online_providers() -> list[tuple[str, str]]:
    """The ways a buyer can pay online here: the sandbox when enabled, a gateway once it is configured."""
    return [(name, str(PROVIDER_LABELS[name])) for name in payment_selectors.online_providers_available()]


def _channel(provider: str, request: HttpRequest) -> str:
    on_phone = "Mobile" in request.headers.get("User-Agent", "")
    if provider == "alipay":
        return "wap" if on_phone else "page"
    if provider == "wechatpay":
        return "h5" if on_phone else "native"
    return ""


@dataclass(frozen=True)
class PaymentProgress:
    stage: str
    # "processing" (waiting for the gateway's notification), "credited" or "failed".
    state: str
    amount: Money


def payment_progress(order: Order, stage: str) -> PaymentProgress | None:
    """Where the buyer's latest payment for `stage` stands, after they came back from paying."""
    if stage not in PaymentStage.values:
        return None
    intents = payment_selectors.payment_intents_for(reference=order.number, purpose=f"order.{stage}")
    if not intents:
        return None
    latest = intents[-1]
    amount = Money(latest.amount_fen, latest.currency)
    if latest.status == "succeeded" and order.payments.filter(intent=latest.public_id).exists():
        return PaymentProgress(stage=stage, state="credited", amount=amount)
    if latest.status in ("created", "succeeded"):
        return PaymentProgress(stage=stage, state="processing", amount=amount)
    return PaymentProgress(stage=stage, state="failed", amount=amount)


@never_cache
@require_GET
@login_required
def mine(request: HttpRequest) -> HttpResponse:
    orders = list(selectors.orders_for_buyer(buyer=request.user)[:50])
    return render(request, "orders/mine.html", {"orders": orders})


@never_cache
@require_GET
@login_required
def detail(request: HttpRequest, number: str) -> HttpResponse:
    """The order as a task list: what is done, what is next and what is still needed."""
    order = _buyer_order(request, number)
    context = order_context(order)
    hold = order.hold if order.edition_id is not None and hasattr(order, "hold") else None
    seconds_left = max(int((hold.expires_at - clock.now()).total_seconds()), 0) if hold else 0
    context.update(
        hold_left=f"{seconds_left // 60:02d}:{seconds_left % 60:02d}",
        providers=online_providers(),
        progress=payment_progress(order, request.GET.get("paying", "")),
        hold=hold,
        **order_offers_context(order, request.user),
    )
    return render(request, "orders/detail.html", context)


@never_cache
@require_GET
@login_required
def payment_status(request: HttpRequest, number: str) -> HttpResponse:
    """HTMX polling: "processing" until the notification is credited, then the order page again."""
    order = _buyer_order(request, number)
    stage = request.GET.get("paying", "")
    progress = payment_progress(order, stage)
    if progress is None or progress.state != "processing":
        if not request.headers.get("HX-Request"):
            return redirect(_detail_url(order, paying=stage))
        response = HttpResponse(status=204)
        response["HX-Redirect"] = _detail_url(order, paying=stage)
        return response
    return render(request, "orders/_payment_progress.html", {"order": order, "progress": progress})


@require_POST
@login_required
def pay(request: HttpRequest, number: str) -> HttpResponse:
    """Start paying what is due now with the chosen provider, and go to the provider's page."""
    order = _buyer_order(request, number)
    stage = request.POST.get("stage", "")
    provider = request.POST.get("provider", "")
    return_url = request.build_absolute_uri(_detail_url(order, paying=stage))
    try:
        start = order_pay_start(
            order=order,
            stage=stage,
            provider=provider,
            channel=_channel(provider, request),
            return_url=return_url,
            actor=request.user,
        )
    except DomainError as error:
        messages.error(request, error_text(error))
        return redirect("orders:detail", number=order.number)
    if start.kind == "redirect" and start.url:
        return redirect(start.url)
    if start.kind == "qr" and start.qr_payload:
        return render(
            request,
            "orders/pay_qr.html",
            {
                "order": order,
                "qr_svg": qr_svg(start.qr_payload),
                "progress": PaymentProgress(stage=stage, state="processing", amount=order.paid),
                "stage": stage,
            },
        )
    if start.kind == "done":
        return redirect(return_url)
    messages.info(request, _("Open this page inside WeChat to pay with WeChat Pay, or choose another way."))
    return redirect("orders:detail", number=order.number)


@require_POST
@login_required
def lock(request: HttpRequest, number: str) -> HttpResponse:
    order = _buyer_order(request, number)
    try:
        order_lock(order=order, actor=request.user)
        messages.success(request, _("Your order is locked: the dealer can now allocate your car."))
    except DomainError as error:
        messages.error(request, error_text(error))
    return redirect("orders:detail", number=order.number)


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
def cancel(request: HttpRequest, number: str) -> HttpResponse:
    """GET shows what cancelling gives back now; POST cancels."""
    order = _buyer_order(request, number)
    if request.method == "POST":
        try:
            order_cancel(order=order, actor=request.user, note=request.POST.get("note", "")[:200])
        except DomainError as error:
            messages.error(request, error_text(error))
            return redirect("orders:detail", number=order.number)
        messages.success(request, _("Your order is cancelled. Any refund goes back the way you paid."))
        return redirect("orders:detail", number=order.number)
    refund = Money(refund_due_on_cancel(order), order.currency)
    kept = Money(kept_on_cancel(order), order.currency)
    return render(
        request,
        "orders/cancel.html",
        {"order": order, "refund": refund, "kept": kept, "can_cancel": order.can_cancel()},
    )


@require_POST
@login_required
def book_delivery(request: HttpRequest, number: str) -> HttpResponse:
    order = _buyer_order(request, number)
    try:
        moment = parse_local_datetime(request.POST.get("delivery_at"), "delivery_at")
        order_delivery_book(order=order, delivery_at=moment, actor=request.user)
        messages.success(request, _("Your delivery appointment is booked."))
    except DomainError as error:
        messages.error(request, error_text(error))
    return redirect("orders:detail", number=order.number)


# --- changing the configuration ------------------------------------------------------------------


@dataclass(frozen=True)
class ChangePreview:
    configuration: SavedConfiguration
    lines: list[QuoteLine]
    total: Money | None
    difference: Money | None
    errors: list[str]
    discount: Money | None = None
    # The order's coupons the new car would release, with why (no longer eligible, the floor, …).
    released: tuple[PreviewRefusal, ...] = ()


def _change_preview(order: Order, configuration: SavedConfiguration) -> ChangePreview:
    """The configuration priced under the order's own price list, and what it changes the total by."""
    try:
        result = requote_under(
            version=order.price_list_version,
            trim_code=configuration.trim.code,
            option_codes=list(configuration.option_codes),
        )
    except DomainError as error:
        return ChangePreview(configuration, [], None, None, [error_text(error)])
    if not result.valid:
        return ChangePreview(
            configuration, list(result.lines), None, None, [e.message for e in result.errors]
        )
    codes = order_offer_codes(order)
    if not codes:
        total = Money(result.total.amount, order.currency)
        return ChangePreview(
            configuration,
            list(result.lines),
            total,
            Money(total.amount - order.total_fen, order.currency),
            [],
        )
    # The coupons are quoted again for the new car, exactly as the change will (refused ones released).
    quote = order_offers_quote(
        order=order, codes=codes, trim=configuration.trim, vehicle_price_fen=result.total.amount
    )
    total = Money(quote.total_fen, order.currency)
    return ChangePreview(
        configuration,
        list(result.lines),
        total,
        Money(total.amount - order.total_fen, order.currency),
        [],
        discount=Money(quote.discount_fen, order.currency),
        released=tuple(PreviewRefusal(code_grouped(r.code), r.reason, r.message) for r in quote.refused),
    )


def _change_candidates(order: Order) -> list[SavedConfiguration]:
    """The buyer's own saved configurations of the same model, newest first (the current one left out)."""
    candidates = SavedConfiguration.objects.filter(
        owner_id=order.buyer_id, trim__model_id=order.trim.model_id
    )
    if order.configuration_id is not None:
        candidates = candidates.exclude(pk=order.configuration_id)
    return list(candidates.select_related("trim", "trim__model").order_by("-created_at")[:CHANGE_CHOICES])


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
def change(request: HttpRequest, number: str) -> HttpResponse:
    """Inside the change window: pick another saved configuration, see the price difference, confirm."""
    order = _buyer_order(request, number)
    code = (request.POST if request.method == "POST" else request.GET).get("configuration", "")
    chosen: SavedConfiguration | None = None
    error = ""
    if code:
        try:
            chosen = configuration_get(code)
        except DomainError as problem:
            error = error_text(problem)
    if request.method == "POST":
        if chosen is None:
            messages.error(request, error or _("Choose a configuration."))
            return redirect("orders:change", number=order.number)
        try:
            order_change_configuration(order=order, configuration=chosen, actor=request.user)
        except DomainError as problem:
            messages.error(request, error_text(problem))
            return redirect(
                f"{reverse('orders:change', args=[order.number])}?{urlencode({'configuration': code})}"
            )
        messages.success(request, _("Your order now has the new configuration."))
        return redirect("orders:detail", number=order.number)
    configure_url = reverse("catalog:configure", args=[order.trim.code])
    query = urlencode([("options", option) for option in order.option_codes])
    return render(
        request,
        "orders/change.html",
        {
            "order": order,
            "can_change": order.can_change_configuration(),
            "lines": price_lines(order),
            "preview": _change_preview(order, chosen) if chosen is not None else None,
            "candidates": [_change_preview(order, candidate) for candidate in _change_candidates(order)],
            "configure_url": f"{configure_url}?{query}" if query else configure_url,
            "error": error,
        },
    )
