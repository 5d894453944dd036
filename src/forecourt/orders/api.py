"""The orders API.

- `router` at /api/v1/orders: the buyer's orders. `POST` places one and REQUIRES an `Idempotency-Key`
  header: a repeat with the same key and body returns the first answer unchanged, the same key with
  another body is 422 `idempotency_key_reused`.
- `editions_router` at /api/v1/editions: limited editions on sale and the units left (public).
- `workspace_router` at /api/v1/workspace/orders: the delivering dealer's staff. Every order is looked
  up through the tenant scope, so another dealer's order number is a 404, exactly like an unknown one.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Header, Query, Router, Schema
from pydantic import Field

from forecourt.accounts.auth import api_auth, request_user
from forecourt.catalog.selectors import configuration_get
from forecourt.core import clock
from forecourt.core.errors import CoreErrorCode, DomainError, NotFound
from forecourt.core.idempotency import (
    IDEMPOTENCY_HEADER,
    idempotency_key_from_header,
    idempotency_key_used,
    idempotent_call,
)
from forecourt.dealers.selectors import city_get, dealer_get
from forecourt.orders import selectors
from forecourt.orders.access import is_order_staff
from forecourt.orders.errors import OrderErrorCode, field_error
from forecourt.orders.models import Vehicle
from forecourt.orders.presenters import edition_out, order_out, order_summary_out, vehicle_out
from forecourt.orders.services import (
    normalise_vin,
    order_allocate_vehicle,
    order_cancel,
    order_change_configuration,
    order_delivery_book,
    order_delivery_confirm,
    order_final_payment_confirm,
    order_late_days_accrue,
    order_lock,
    order_offers_apply,
    order_pay_start,
    order_place,
)
from forecourt.orders.services.holds import sold_out_error
from forecourt.payments.services import return_url_on_site

router = Router(tags=["orders"], auth=api_auth)
editions_router = Router(tags=["orders"])
workspace_router = Router(tags=["dealer workspace"], auth=api_auth)


def _referenced(lookup: Any, field: str, **kwargs: Any) -> Any:
    """A reference in a body that does not exist is a malformed request (422 naming the field)."""
    try:
        return lookup(**kwargs)
    except NotFound as error:
        raise field_error(CoreErrorCode.INVALID, field, error.message) from None


# ---- The buyer ---------------------------------------------------------------------------------------


# Codes and ids are short printable ASCII; a control character (a NUL above all) never reaches the database.
SHARE_CODE = r"^[0-9A-Za-z \-]+$"
SLUG = r"^[-a-zA-Z0-9_]+$"
PUBLIC_ID = r"^[A-Za-z0-9_]+$"
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"


class OrderIn(Schema):
    configuration: str | None = Field(default=None, min_length=1, max_length=32, pattern=SHARE_CODE)
    edition: str | None = Field(default=None, min_length=1, max_length=40, pattern=SLUG)
    city: str | None = Field(default=None, min_length=1, max_length=40, pattern=SLUG)
    dealer: str | None = Field(default=None, min_length=1, max_length=32, pattern=PUBLIC_ID)
    lock_deadline: date | None = None
    # The buyer's coupons to apply (codes as typed, with or without the dashes).
    voucher_codes: list[Annotated[str, Field(min_length=1, max_length=24, pattern=SHARE_CODE)]] | None = (
        Field(default=None, max_length=10)
    )


@router.post("", response={201: dict}, summary="Place an order (Idempotency-Key required)")
def order_create(
    request: HttpRequest,
    payload: OrderIn,
    idempotency_key: str | None = Header(None, alias=IDEMPOTENCY_HEADER),
) -> Any:
    buyer = request_user(request)
    key = idempotency_key_from_header(idempotency_key)
    if (payload.configuration is None) == (payload.edition is None):
        raise field_error(
            CoreErrorCode.INVALID, "configuration", _("Send either a configuration or an edition, not both.")
        )
    scope = f"orders:{buyer.pk}"
    body = payload.model_dump(mode="json")
    fresh_key = payload.edition is None or not idempotency_key_used(scope=scope, key=key)
    if payload.edition and fresh_key:
        # A rush on a sold-out edition is answered from memory (see edition_sold_out_recently).
        recent = selectors.edition_sold_out_recently(code=payload.edition, city_code=payload.city)
        if recent is not None:
            raise recent
    edition = _referenced(selectors.edition_get, "edition", code=payload.edition) if payload.edition else None
    city = _referenced(city_get, "city", code=payload.city) if payload.city else None
    if edition is not None and fresh_key:
        # Sold out is answered from one read, before the idempotency claim or any other write.
        stock = selectors.edition_stock_for(edition=edition, city=city)
        if stock.is_sold_out:
            selectors.edition_sold_out_remember(code=edition.code, city_code=payload.city, stock=stock)
            raise sold_out_error(stock)

    def perform() -> tuple[int, Any]:
        configuration = (
            _referenced(configuration_get, "configuration", share_code=payload.configuration)
            if payload.configuration
            else None
        )
        dealer = _referenced(dealer_get, "dealer", public_id=payload.dealer) if payload.dealer else None
        answer: dict[str, Any] = {}

        def respond(order: Any) -> None:
            # Built inside the service, before an edition's unit is counted (see order_place).
            body_out = order_out(order)
            answer.update({"order": body_out, "hold": body_out["hold"]})

        order_place(
            buyer=buyer,
            configuration=configuration,
            edition=edition,
            city=city,
            dealer=dealer,
            lock_deadline=payload.lock_deadline,
            voucher_codes=payload.voucher_codes or [],
            before_commit=respond,
        )
        return 201, answer

    status, answer = idempotent_call(scope=scope, key=key, body=body, perform=perform)
    # A replay comes back from a JSON column (PostgreSQL's jsonb reorders keys): sorting the keys of the
    # first answer and of every replay alike keeps them byte for byte identical.
    return status, _keys_sorted(answer)


def _keys_sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _keys_sorted(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_keys_sorted(item) for item in value]
    return value


class ListQuery(Schema):
    limit: int = Field(default=20, ge=1, le=100)
    offset: int = Field(default=0, ge=0, le=1_000_000)


@router.get("", summary="My orders")
def orders_mine(request: HttpRequest, filters: Query[ListQuery]) -> dict[str, Any]:
    orders = selectors.orders_for_buyer(buyer=request_user(request))
    page = orders[filters.offset : filters.offset + filters.limit]
    return {"count": orders.count(), "items": [order_summary_out(order) for order in page]}


def _mine(request: HttpRequest, number: str) -> Any:
    return selectors.order_get_for_buyer(buyer=request_user(request), number=number)


@router.get("/{number}", summary="One of my orders, with its task list")
def order_mine(request: HttpRequest, number: str) -> dict[str, Any]:
    order = _mine(request, number)
    order_late_days_accrue(order=order)
    return order_out(order)


class PaymentIn(Schema):
    stage: str = Field(max_length=20, pattern=PRINTABLE)
    provider: str = Field(max_length=20, pattern=PRINTABLE)
    channel: str = Field(default="", max_length=20, pattern=PRINTABLE)
    return_url: str = Field(min_length=1, max_length=500, pattern=PRINTABLE)


@router.post("/{number}/payments", response={201: dict}, summary="Start paying what is due now")
def order_pay(request: HttpRequest, number: str, payload: PaymentIn) -> tuple[int, dict[str, Any]]:
    user = request_user(request)
    order = _mine(request, number)
    start = order_pay_start(
        order=order,
        stage=payload.stage,
        provider=payload.provider,
        channel=payload.channel,
        return_url=return_url_on_site(payload.return_url),
        actor=user,
    )
    return 201, {**start.as_answer(), "order": order.number, "stage": payload.stage}


@router.post("/{number}/lock", summary="Lock my order (the deposit stops being refundable)")
def order_lock_endpoint(request: HttpRequest, number: str) -> dict[str, Any]:
    order = order_lock(order=_mine(request, number), actor=request_user(request))
    return order_out(selectors.order_get_for_buyer(buyer=request_user(request), number=order.number))


class CancelIn(Schema):
    note: str = Field(default="", max_length=200, pattern=PRINTABLE)


@router.post("/{number}/cancel", summary="Cancel my order (refunds per stage)")
def order_cancel_endpoint(
    request: HttpRequest, number: str, payload: CancelIn | None = None
) -> dict[str, Any]:
    user = request_user(request)
    order = order_cancel(order=_mine(request, number), actor=user, note=payload.note if payload else "")
    return order_out(selectors.order_get_for_buyer(buyer=user, number=order.number))


class ConfigurationIn(Schema):
    configuration: str = Field(min_length=1, max_length=32, pattern=SHARE_CODE)


@router.post("/{number}/configuration", summary="Change my configuration before the lock")
def order_configuration(request: HttpRequest, number: str, payload: ConfigurationIn) -> dict[str, Any]:
    user = request_user(request)
    order = _mine(request, number)
    configuration = _referenced(configuration_get, "configuration", share_code=payload.configuration)
    order = order_change_configuration(order=order, configuration=configuration, actor=user)
    return order_out(selectors.order_get_for_buyer(buyer=user, number=order.number))


class OffersIn(Schema):
    codes: list[Annotated[str, Field(min_length=1, max_length=24, pattern=SHARE_CODE)]] = Field(max_length=10)


@router.post("/{number}/offers", summary="Set the coupons on my order before the lock")
def order_offers(request: HttpRequest, number: str, payload: OffersIn) -> dict[str, Any]:
    user = request_user(request)
    order = order_offers_apply(order=_mine(request, number), codes=list(payload.codes), actor=user)
    return order_out(selectors.order_get_for_buyer(buyer=user, number=order.number))


# ---- Limited editions ---------------------------------------------------------------------------------


@editions_router.get("", summary="Limited editions on sale")
def editions_list(request: HttpRequest) -> dict[str, Any]:
    return {"items": [edition_out(offer) for offer in selectors.editions_on_sale()]}


@editions_router.get("/{code}", summary="One limited edition and its units left")
def edition_detail(request: HttpRequest, code: str) -> dict[str, Any]:
    return edition_out(selectors.edition_offer(code=code))


# ---- The dealer workspace -----------------------------------------------------------------------------


def _staff(request: HttpRequest) -> Any:
    user = request_user(request)
    if not is_order_staff(user):
        raise DomainError(CoreErrorCode.FORBIDDEN, _("The dealer workspace is for dealer staff."), status=403)
    return user


def _theirs(request: HttpRequest, number: str) -> tuple[Any, Any]:
    user = _staff(request)
    return user, selectors.order_get_for_staff(user=user, number=number)


def _staff_view(user: Any, number: str) -> dict[str, Any]:
    order = selectors.order_get_for_staff(user=user, number=number)
    body = order_out(order, for_staff=True)
    body["matching_vehicles"] = (
        [vehicle_out(vehicle) for vehicle in selectors.vehicles_for_order(order=order)[:50]]
        if order.effective_status == "locked"
        else []
    )
    return body


class WorkspaceListQuery(Schema):
    status: str | None = Field(default=None, max_length=20, pattern=PRINTABLE)
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=1_000_000)


@workspace_router.get("", summary="My dealer's orders")
def workspace_orders(request: HttpRequest, filters: Query[WorkspaceListQuery]) -> dict[str, Any]:
    orders = selectors.orders_for_staff(user=_staff(request), status=filters.status)
    page = orders[filters.offset : filters.offset + filters.limit]
    return {"count": orders.count(), "items": [order_summary_out(order) for order in page]}


@workspace_router.get("/{number}", summary="One order of my dealer")
def workspace_order(request: HttpRequest, number: str) -> dict[str, Any]:
    user, order = _theirs(request, number)
    order_late_days_accrue(order=order)
    return _staff_view(user, order.number)


class AllocateIn(Schema):
    vin: str = Field(max_length=20, pattern=PRINTABLE)


@workspace_router.post("/{number}/allocate", summary="Allocate a car from stock")
def workspace_allocate(request: HttpRequest, number: str, payload: AllocateIn) -> dict[str, Any]:
    user, order = _theirs(request, number)
    vin = normalise_vin(payload.vin)
    vehicle = Vehicle.objects.filter(vin=vin).first()
    if vehicle is None:
        raise field_error(OrderErrorCode.VEHICLE_NOT_AVAILABLE, "vin", _("No car with this VIN is in stock."))
    order_allocate_vehicle(order=order, vehicle=vehicle, actor=user)
    return _staff_view(user, order.number)


class FinalPaymentIn(Schema):
    receipt_number: str = Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x20\x7f][^\x00-\x1f\x7f]*$")


@workspace_router.post("/{number}/final-payment", summary="Confirm the final payment received in store")
def workspace_final_payment(request: HttpRequest, number: str, payload: FinalPaymentIn) -> dict[str, Any]:
    user, order = _theirs(request, number)
    order_final_payment_confirm(order=order, actor=user, receipt_number=payload.receipt_number)
    return _staff_view(user, order.number)


class DeliveryIn(Schema):
    delivery_at: datetime


@workspace_router.post("/{number}/delivery", summary="Book the delivery")
def workspace_delivery(request: HttpRequest, number: str, payload: DeliveryIn) -> dict[str, Any]:
    user, order = _theirs(request, number)
    at = (
        payload.delivery_at
        if payload.delivery_at.tzinfo
        else payload.delivery_at.replace(tzinfo=clock.SHANGHAI)
    )
    order_delivery_book(order=order, delivery_at=at, actor=user)
    return _staff_view(user, order.number)


@workspace_router.post("/{number}/delivered", summary="Confirm the car was handed over")
def workspace_delivered(request: HttpRequest, number: str) -> dict[str, Any]:
    user, order = _theirs(request, number)
    order_delivery_confirm(order=order, actor=user)
    return _staff_view(user, order.number)
