"""The ops console for the catalogue: plain editing, plus explicit, audited price-list publishing."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from forecourt.catalog import services
from forecourt.catalog.models import (
    Option,
    OptionRule,
    PackageItem,
    PriceList,
    PriceListItem,
    SavedConfiguration,
    Trim,
    TrimOption,
    VehicleModel,
)
from forecourt.core.errors import DomainError


class TrimInline(admin.StackedInline):
    model = Trim
    extra = 0
    show_change_link = True
    fields = [
        ("code", "name", "name_en", "position", "is_active"),
        ("is_limited_edition", "limited_units"),
        (
            "range_km",
            "fuel_l_per_100km_tenths",
            "power_kw",
            "torque_nm",
            "acceleration_0_100_tenths",
            "drive",
        ),
        ("seats", "length_mm", "width_mm", "height_mm", "wheelbase_mm"),
    ]


@admin.register(VehicleModel)
class VehicleModelAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_en", "body_type", "powertrain", "is_active", "is_limited_edition"]
    list_filter = ["body_type", "powertrain", "is_active"]
    search_fields = ["code", "name", "name_en"]
    inlines = [TrimInline]


class TrimOptionInline(admin.TabularInline):
    model = TrimOption
    extra = 0
    autocomplete_fields = ["option"]


@admin.register(Trim)
class TrimAdmin(admin.ModelAdmin):
    list_display = ["code", "model", "name", "name_en", "is_active", "is_limited_edition", "limited_units"]
    list_filter = ["model", "is_active"]
    search_fields = ["code", "name", "name_en"]
    inlines = [TrimOptionInline]


class PackageItemInline(admin.TabularInline):
    model = PackageItem
    fk_name = "package"
    extra = 0
    autocomplete_fields = ["option"]
    verbose_name = gettext_lazy("included option")
    verbose_name_plural = gettext_lazy("included options (packages only)")


class OptionRuleInline(admin.TabularInline):
    model = OptionRule
    fk_name = "option"
    extra = 0
    autocomplete_fields = ["other"]


@admin.register(Option)
class OptionAdmin(admin.ModelAdmin):
    list_display = ["code", "kind", "name", "name_en", "swatch_hex", "position"]
    list_filter = ["kind"]
    search_fields = ["code", "name", "name_en"]
    inlines = [PackageItemInline, OptionRuleInline]


class PriceListItemInline(admin.TabularInline):
    model = PriceListItem
    extra = 0
    autocomplete_fields = ["trim", "option"]

    # A published or retired list is history: saved quotes and orders point at its version.
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None or obj.is_draft

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None or obj.is_draft

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None or obj.is_draft


@admin.register(PriceList)
class PriceListAdmin(admin.ModelAdmin):
    list_display = ["version", "name", "status", "effective_from", "effective_to", "published_by"]
    list_filter = ["status"]
    inlines = [PriceListItemInline]
    actions = ["publish", "copy_as_draft"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # Status and dates change only through the publish action, never by hand.
        readonly = ["status", "effective_from", "effective_to", "published_at", "published_by"]
        if obj is not None and not obj.is_draft:
            readonly += ["version", "name"]
        return readonly

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None or obj.is_draft

    @admin.action(description=gettext_lazy("Publish the selected draft price list (takes effect now)"))
    def publish(self, request: HttpRequest, queryset: QuerySet[PriceList]) -> None:
        if queryset.count() != 1:
            self.message_user(request, _("Choose exactly one draft price list to publish."), messages.ERROR)
            return
        price_list = queryset.get()
        try:
            services.price_list_publish(price_list=price_list, actor=request.user)
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
            return
        self.message_user(
            request,
            _("Price list v%(version)s is now in effect.") % {"version": price_list.version},
            messages.SUCCESS,
        )

    @admin.action(description=gettext_lazy("Copy as a new draft"))
    def copy_as_draft(self, request: HttpRequest, queryset: QuerySet[PriceList]) -> None:
        for source in queryset.order_by("version"):
            draft = services.price_list_draft_copy(source=source, actor=request.user)
            self.message_user(
                request,
                _("Draft v%(version)s created from v%(source)s.")
                % {"version": draft.version, "source": source.version},
            )


@admin.register(SavedConfiguration)
class SavedConfigurationAdmin(admin.ModelAdmin):
    list_display = ["share_code", "trim", "total_fen", "price_list_version", "owner", "created_at"]
    list_filter = ["price_list_version", "trim__model"]
    search_fields = ["share_code"]
    readonly_fields = [field.name for field in SavedConfiguration._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
