"""Dealer workspace: the orders a dealer delivers, and the dealer's steps of each one.

For the delivering dealer's staff only: every order is read through the orders' one tenant scope, so
another dealer's order number is a 404 on every page and action. The dealer sees the locked-in lines,
price-list version and offers exactly as the buyer agreed to them and cannot change them. Actions
(allocate a car, confirm the final payment taken in store, book and confirm the delivery) post a form
with CSRF, call one service and come back to the order with the outcome as a message.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from forecourt.core import clock
from forecourt.core.errors import DomainError, NotFound
from forecourt.core.money import Money
from forecourt.orders import selectors
from forecourt.orders.access import is_order_staff
from forecourt.orders.errors import OrderErrorCode
from forecourt.orders.models import Order, OrderStatus, Vehicle
from forecourt.orders.offer_views import offer_rows
from forecourt.orders.services import (
    normalise_vin,
    order_allocate_vehicle,
    order_delivery_book,
    order_delivery_confirm,
    order_final_payment_confirm,
)
from forecourt.orders.views import error_text, order_context, parse_local_datetime

PAGE_SIZE = 30


def order_staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed-in staff of a dealer; anyone else signed in gets a 403, visitors the sign-in page."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_order_staff(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _scoped(request: HttpRequest, number: str) -> Order:
    try:
        return selectors.order_get_for_staff(user=request.user, number=number)
    except NotFound:
        raise Http404 from None


def _back(order: Order) -> HttpResponse:
    return redirect("orders:workspace-detail", number=order.number)


@never_cache
@require_GET
@order_staff_required
def order_list(request: HttpRequest) -> HttpResponse:
    """The dealer's orders, newest first, optionally of one status."""
    status = request.GET.get("status", "")
    if status not in OrderStatus.values:
        status = ""
    orders = selectors.orders_for_staff(user=request.user, status=status or None)
    counts = dict.fromkeys(OrderStatus.values, 0)
    per_status = selectors.orders_for_staff(user=request.user).order_by().values("status")
    counts.update({row["status"]: row["n"] for row in per_status.annotate(n=Count("pk"))})
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "orders/workspace/list.html",
        {
            "page": page,
            "orders": list(page.object_list),
            "status": status,
            "statuses": [(value, label, counts[value]) for value, label in OrderStatus.choices],
            "total": sum(counts.values()),
            "query": urlencode({"status": status}) if status else "",
            "dealer": getattr(request.user, "dealer", None),
        },
    )


@never_cache
@require_GET
@order_staff_required
def order_detail(request: HttpRequest, number: str) -> HttpResponse:
    order = _scoped(request, number)
    context = order_context(order)
    allocating = order.effective_status == OrderStatus.LOCKED
    context.update(
        vehicles=selectors.vehicles_for_order(order=order) if allocating else [],
        can_allocate=allocating,
        can_confirm_final=context["due"] is not None and context["due"].stage == "final",
        can_deliver=order.status == OrderStatus.READY_FOR_DELIVERY,
        dealer=getattr(request.user, "dealer", None),
        offer_rows=offer_rows(order),
        floor=Money(order.floor_fen, order.currency),
    )
    return render(request, "orders/workspace/detail.html", context)


@require_POST
@order_staff_required
def allocate(request: HttpRequest, number: str) -> HttpResponse:
    """Allocate a car from the dealer's or the maker's stock, by its VIN."""
    order = _scoped(request, number)
    try:
        vin = normalise_vin(request.POST.get("vin", ""))
        vehicle = Vehicle.objects.filter(vin=vin).first()
        if vehicle is None:
            raise DomainError(
                OrderErrorCode.VEHICLE_NOT_AVAILABLE, _("There is no car with this VIN in stock."), status=409
            )
        order_allocate_vehicle(order=order, vehicle=vehicle, actor=request.user)
        messages.success(request, _("Car %(vin)s is allocated to this order.") % {"vin": vin})
    except DomainError as error:
        messages.error(request, error_text(error))
    return _back(order)


@require_POST
@order_staff_required
def confirm_final_payment(request: HttpRequest, number: str) -> HttpResponse:
    """The final payment was received in store: its amount is the order's, only the receipt is typed."""
    order = _scoped(request, number)
    try:
        order_final_payment_confirm(
            order=order, actor=request.user, receipt_number=request.POST.get("receipt_number", "")
        )
        messages.success(request, _("The final payment is recorded."))
    except DomainError as error:
        messages.error(request, error_text(error))
    return _back(order)


@require_POST
@order_staff_required
def book_delivery(request: HttpRequest, number: str) -> HttpResponse:
    order = _scoped(request, number)
    try:
        moment = parse_local_datetime(request.POST.get("delivery_at"), "delivery_at")
        order_delivery_book(order=order, delivery_at=moment, actor=request.user)
        messages.success(
            request,
            _("The delivery is booked for %(when)s.")
            % {"when": moment.astimezone(clock.SHANGHAI).strftime("%Y-%m-%d %H:%M")},
        )
    except DomainError as error:
        messages.error(request, error_text(error))
    return _back(order)


@require_POST
@order_staff_required
def confirm_delivery(request: HttpRequest, number: str) -> HttpResponse:
    order = _scoped(request, number)
    try:
        order_delivery_confirm(order=order, actor=request.user)
        messages.success(request, _("The car is delivered. Congratulations to the new owner!"))
    except DomainError as error:
        messages.error(request, error_text(error))
    return _back(order)
