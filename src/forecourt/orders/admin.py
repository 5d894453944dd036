from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from forecourt.core.admin import ReadOnlyAdmin
from forecourt.orders.models import (
    EditionHold,
    EditionStock,
    LimitedEdition,
    Order,
    OrderChange,
    OrderLateDay,
    OrderPayment,
    OrderRefund,
    OrderStatusChange,
    Vehicle,
)


class OrderStatusChangeInline(admin.TabularInline):
    model = OrderStatusChange
    extra = 0
    can_delete = False
    readonly_fields = ["from_status", "to_status", "actor", "reason", "at"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    """Orders change only through their services (locked, guarded, recorded): the console shows them."""

    list_display = [
        "number",
        "status",
        "buyer",
        "dealer",
        "trim",
        "total_fen",
        "paid_fen",
        "refunded_fen",
        "created_at",
    ]
    list_filter = ["status", "dealer"]
    search_fields = ["number", "vehicle__vin"]
    inlines = [OrderStatusChangeInline]


@admin.register(OrderPayment)
class OrderPaymentAdmin(ReadOnlyAdmin):
    list_display = [
        "intent",
        "order",
        "purpose",
        "amount_fen",
        "credited_fen",
        "excess_fen",
        "refunded_fen",
        "at",
    ]
    search_fields = ["intent", "order__number"]


@admin.register(OrderRefund)
class OrderRefundAdmin(ReadOnlyAdmin):
    list_display = ["refund", "order", "amount_fen", "applied_fen", "at"]
    search_fields = ["refund", "order__number"]


@admin.register(OrderChange)
class OrderChangeAdmin(ReadOnlyAdmin):
    list_display = ["order", "old_trim_code", "new_trim_code", "old_total_fen", "new_total_fen", "at"]


@admin.register(OrderLateDay)
class OrderLateDayAdmin(ReadOnlyAdmin):
    list_display = ["order", "day", "points", "at"]


@admin.register(Vehicle)
class VehicleAdmin(admin.ModelAdmin):
    """Cars are taken into stock here; allocation and delivery change them only through the services."""

    list_display = ["vin", "trim", "dealer", "status"]
    list_filter = ["status", "trim", "dealer"]
    search_fields = ["vin"]
    readonly_fields = ["status", "created_at"]

    def save_model(self, request: HttpRequest, obj: Vehicle, form: Any, change: bool) -> None:
        from forecourt.core import clock

        if obj.created_at is None:
            obj.created_at = clock.now()
        obj.option_codes = sorted(set(obj.option_codes or []))
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None or obj.status == "available"


class EditionStockInline(admin.TabularInline):
    model = EditionStock
    extra = 0
    # The counters move only through holds and payments.
    readonly_fields = ["units_held", "units_sold"]
    can_delete = False


@admin.register(LimitedEdition)
class LimitedEditionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "trim", "sale_starts_at", "sale_ends_at", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "name", "name_en"]
    inlines = [EditionStockInline]


@admin.register(EditionHold)
class EditionHoldAdmin(ReadOnlyAdmin):
    list_display = ["order", "stock", "status", "expires_at", "confirmed_at", "ended_at"]
    list_filter = ["status"]
