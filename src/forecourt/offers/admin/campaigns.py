"""Ops console (/ops/): campaigns and their budgets, partner merchants and their counter staff, price
floors, and vouchers (read-only: they change only through the services)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from forecourt.accounts.models import User
from forecourt.core import clock
from forecourt.core.admin import ReadOnlyAdmin
from forecourt.core.audit import audit_record
from forecourt.offers.models import (
    Campaign,
    Channel,
    CouponKind,
    Merchant,
    MerchantStaff,
    PriceFloor,
    Voucher,
)
from forecourt.offers.presenters import campaign_remaining_percent


class CodeListField(forms.CharField):
    """A list of codes typed as "shanghai, hangzhou"; empty means no restriction."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return ", ".join(str(item) for item in value)
        return value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        if isinstance(value, list):
            return [str(item) for item in value]
        text = super().to_python(value) or ""
        items = [item.strip() for item in text.replace("，", ",").split(",")]
        return list(dict.fromkeys(item for item in items if item))


LIST_HELP = gettext_lazy("Codes separated by commas; leave empty for no restriction.")


class CampaignForm(forms.ModelForm):
    channels = CodeListField(
        required=False,
        label=gettext_lazy("channels"),
        help_text=gettext_lazy("Any of: %(allowed)s; empty means every channel.")
        % {"allowed": ", ".join(Channel.values)},
    )
    eligible_models = CodeListField(
        required=False, label=gettext_lazy("eligible models"), help_text=LIST_HELP
    )
    eligible_trims = CodeListField(required=False, label=gettext_lazy("eligible trims"), help_text=LIST_HELP)
    eligible_cities = CodeListField(
        required=False, label=gettext_lazy("eligible cities"), help_text=LIST_HELP
    )
    eligible_dealers = CodeListField(
        required=False, label=gettext_lazy("eligible dealers"), help_text=LIST_HELP
    )

    class Meta:
        model = Campaign
        fields = [
            "name",
            "name_en",
            "kind",
            "is_active",
            "description",
            "description_en",
            "conditions",
            "conditions_en",
            "starts_at",
            "ends_at",
            "valid_days",
            "valid_until",
            "channels",
            "face_value_fen",
            "percent_off_bp",
            "percent_cap_fen",
            "price_fen",
            "gift_description",
            "gift_description_en",
            "merchant",
            "budget_count",
            "budget_fen",
            "per_person_limit",
            "eligible_models",
            "eligible_trims",
            "eligible_cities",
            "eligible_dealers",
            "exclusive",
            "stackable_with",
            "max_order_discount_fen",
            "on_cancel",
        ]

    def clean_channels(self) -> list[str]:
        channels = self.cleaned_data.get("channels") or []
        unknown = [channel for channel in channels if channel not in Channel.values]
        if unknown:
            raise forms.ValidationError(_("Unknown channel: %(names)s.") % {"names": ", ".join(unknown)})
        return channels

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind")
        starts, ends, until = data.get("starts_at"), data.get("ends_at"), data.get("valid_until")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", _("Claims must close after they open."))
        if starts and until and until <= starts:
            self.add_error("valid_until", _("Vouchers must stay valid after claims open."))
        if kind == CouponKind.PERCENT_OFF:
            if not data.get("percent_off_bp"):
                self.add_error("percent_off_bp", _("A percentage coupon needs its percentage."))
            if not data.get("percent_cap_fen"):
                self.add_error("percent_cap_fen", _("A percentage coupon needs a cap."))
        elif kind in (CouponKind.CASH_OFF, CouponKind.PAID_MULTIPLIER) and not data.get("face_value_fen"):
            self.add_error("face_value_fen", _("Give the coupon's value."))
        if kind == CouponKind.PAID_MULTIPLIER and not data.get("price_fen"):
            self.add_error("price_fen", _("A paid coupon needs a price."))
        if kind == CouponKind.MERCHANT_SERVICE and not data.get("merchant"):
            self.add_error("merchant", _("A partner service voucher needs its merchant."))
        if kind == CouponKind.GIFT and not data.get("gift_description"):
            self.add_error("gift_description", _("Say what the gift is."))
        if data.get("budget_count") is None and data.get("budget_fen") is None:
            self.add_error("budget_count", _("Give a budget in vouchers, in money, or both."))
        if self.instance.pk:
            if data.get("budget_count") is not None and data["budget_count"] < self.instance.claimed_count:
                self.add_error("budget_count", _("The budget cannot be below what was already claimed."))
            if data.get("budget_fen") is not None and data["budget_fen"] < self.instance.claimed_fen:
                self.add_error("budget_fen", _("The budget cannot be below what was already claimed."))
        if data.get("exclusive") and data.get("stackable_with"):
            self.add_error("stackable_with", _("An exclusive campaign stacks with nothing."))
        return data


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    form = CampaignForm
    list_display = [
        "name",
        "kind",
        "starts_at",
        "ends_at",
        "budget_used",
        "budget_left",
        "claimed_count",
        "per_person_limit",
        "exclusive",
        "is_active",
    ]
    list_filter = ["kind", "is_active", "exclusive"]
    search_fields = ["name", "name_en", "public_id"]
    readonly_fields = ["public_id", "claimed_count", "claimed_fen", "created_by", "created_at", "updated_at"]
    filter_horizontal = ["stackable_with"]
    fieldsets = [
        (None, {"fields": ["public_id", "name", "name_en", "kind", "is_active"]}),
        (
            gettext_lazy("Text"),
            {"fields": ["description", "description_en", "conditions", "conditions_en"]},
        ),
        (
            gettext_lazy("Period"),
            {"fields": ["starts_at", "ends_at", "valid_days", "valid_until", "channels"]},
        ),
        (
            gettext_lazy("Value"),
            {
                "fields": [
                    "face_value_fen",
                    "percent_off_bp",
                    "percent_cap_fen",
                    "price_fen",
                    "gift_description",
                    "gift_description_en",
                    "merchant",
                ]
            },
        ),
        (
            gettext_lazy("Budget and limits"),
            {"fields": ["budget_count", "budget_fen", "claimed_count", "claimed_fen", "per_person_limit"]},
        ),
        (
            gettext_lazy("Eligibility"),
            {"fields": ["eligible_models", "eligible_trims", "eligible_cities", "eligible_dealers"]},
        ),
        (
            gettext_lazy("Stacking and orders"),
            {"fields": ["exclusive", "stackable_with", "max_order_discount_fen", "on_cancel"]},
        ),
        (gettext_lazy("Record"), {"fields": ["created_by", "created_at", "updated_at"]}),
    ]

    @admin.display(description=gettext_lazy("budget used"))
    def budget_used(self, obj: Campaign) -> str:
        parts = []
        if obj.budget_count is not None:
            parts.append(f"{obj.claimed_count}/{obj.budget_count}")
        if obj.budget_fen is not None:
            parts.append(f"¥{obj.claimed_fen // 100:,}/¥{obj.budget_fen // 100:,}")
        return " · ".join(parts) or "—"

    @admin.display(description=gettext_lazy("budget left"))
    def budget_left(self, obj: Campaign) -> str:
        left = campaign_remaining_percent(obj)
        return "—" if left is None else f"{left}%"

    def save_model(self, request: HttpRequest, obj: Campaign, form: Any, change: bool) -> None:
        moment = clock.now()
        if not change:
            obj.created_by = request.user if isinstance(request.user, User) else None
            obj.created_at = moment
        obj.updated_at = moment
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,
            action="campaign.changed" if change else "campaign.created",
            object_type="campaign",
            object_id=obj.public_id,
            details={"fields": sorted(form.changed_data)},
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A campaign with vouchers is ended (inactive), never deleted: the vouchers keep pointing at it.
        return obj is None or not obj.vouchers.exists()


class MerchantStaffInline(admin.TabularInline):
    model = MerchantStaff
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Merchant)
class MerchantAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "city", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "name_en", "public_id"]
    readonly_fields = ["public_id"]
    inlines = [MerchantStaffInline]


@admin.register(PriceFloor)
class PriceFloorAdmin(admin.ModelAdmin):
    list_display = ["__str__", "model", "trim", "floor_fen", "updated_at"]
    readonly_fields = ["updated_at"]

    def save_model(self, request: HttpRequest, obj: PriceFloor, form: Any, change: bool) -> None:
        obj.updated_at = clock.now()
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,
            action="price_floor.changed" if change else "price_floor.created",
            object_type="price_floor",
            object_id=str(obj.pk),
            details={"floor_fen": obj.floor_fen},
        )


@admin.register(Voucher)
class VoucherAdmin(ReadOnlyAdmin):
    """Vouchers change only through their services (claim, pay, apply, write off, refund)."""

    list_display = [
        "code",
        "campaign",
        "holder",
        "kind",
        "status",
        "valid_until",
        "order_reference",
        "created_at",
    ]
    list_filter = ["status", "kind"]
    search_fields = ["code", "order_reference"]
    list_select_related = ["campaign", "holder"]

    def get_search_results(self, request: HttpRequest, queryset: Any, search_term: str) -> Any:
        # Staff type codes the way they read them: in groups of four, any case.
        cleaned = search_term.replace("-", "").replace(" ", "").upper()
        return super().get_search_results(request, queryset, cleaned or search_term)
