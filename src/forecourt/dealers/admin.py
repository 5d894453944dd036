"""Ops console pages for the dealer network: plain editing of cities and dealers, every change audited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from forecourt.core.audit import audit_record
from forecourt.dealers.models import City, Dealer


class _AuditedAdmin(admin.ModelAdmin):
    """Records who created, changed or deleted a row in the audit trail, in the same transaction."""

    audit_object_type = ""

    def _object_id(self, obj: Any) -> str:
        return str(obj.pk)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit_record(
                actor=request.user,
                action=f"{self.audit_object_type}.{'changed' if change else 'created'}",
                object_type=self.audit_object_type,
                object_id=self._object_id(obj),
                details={"fields": sorted(form.changed_data)},
            )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        with transaction.atomic():
            object_id = self._object_id(obj)
            super().delete_model(request, obj)
            audit_record(
                actor=request.user,
                action=f"{self.audit_object_type}.deleted",
                object_type=self.audit_object_type,
                object_id=object_id,
            )

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        with transaction.atomic():
            object_ids = [self._object_id(obj) for obj in queryset]
            super().delete_queryset(request, queryset)
            for object_id in object_ids:
                audit_record(
                    actor=request.user,
                    action=f"{self.audit_object_type}.deleted",
                    object_type=self.audit_object_type,
                    object_id=object_id,
                )


@admin.register(City)
class CityAdmin(_AuditedAdmin):
    audit_object_type = "city"
    list_display = ["name", "name_en", "code", "province", "latitude", "longitude", "dealer_count"]
    list_filter = ["province"]
    search_fields = ["code", "name", "name_en", "province", "province_en"]
    ordering = ["province_en", "code"]

    def _object_id(self, obj: Any) -> str:
        return str(obj.code)

    def get_queryset(self, request: HttpRequest) -> QuerySet[City]:
        return super().get_queryset(request).annotate(dealer_total=Count("dealers"))

    @admin.display(description=_("dealers"), ordering="dealer_total")
    def dealer_count(self, obj: Any) -> int:
        return int(obj.dealer_total)


class StaffInline(admin.TabularInline):
    """The dealer's staff, read-only here: people are managed in the accounts pages."""

    model = get_user_model()
    fk_name = "dealer"
    fields = ("username", "display_name", "role", "is_active")
    readonly_fields = ("username", "display_name", "role", "is_active")
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name = _("staff member")
    verbose_name_plural = _("staff")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Dealer)
class DealerAdmin(_AuditedAdmin):
    audit_object_type = "dealer"
    list_display = [
        "name",
        "public_id",
        "kind",
        "city",
        "province",
        "services_list",
        "lead_capacity",
        "is_active",
    ]
    list_filter = [
        "kind",
        ("city__province", admin.AllValuesFieldListFilter),
        "city",
        "is_active",
        "offers_sales",
        "offers_test_drive",
        "offers_delivery",
        "offers_service",
    ]
    search_fields = ["name", "public_id", "address", "phone", "city__name", "city__name_en", "city__province"]
    list_select_related = ["city"]
    readonly_fields = ["public_id"]
    autocomplete_fields = ["city"]
    inlines = [StaffInline]
    fieldsets = [
        (None, {"fields": ["public_id", "name", "kind", "is_active"]}),
        (_("Where"), {"fields": ["city", "address", "latitude", "longitude", "phone", "opening_hours"]}),
        (
            _("What it offers"),
            {"fields": ["offers_sales", "offers_test_drive", "offers_delivery", "offers_service"]},
        ),
        (_("Capacity"), {"fields": ["lead_capacity", "demo_car_count"]}),
    ]

    def _object_id(self, obj: Any) -> str:
        return str(obj.public_id)

    @admin.display(description=_("province"), ordering="city__province")
    def province(self, obj: Dealer) -> str:
        return obj.city.province

    @admin.display(description=_("services"))
    def services_list(self, obj: Dealer) -> str:
        return ", ".join(obj.service_labels)
