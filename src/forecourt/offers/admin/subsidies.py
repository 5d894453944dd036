"""Ops console: subsidy programmes (created through the service; pool figures read-only) and applications
(read-only, the ID number masked: type and last four). Decisions are made on the review pages at
/subsidies/ops/, which issue the voucher through the service."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from forecourt.catalog.models import VehicleModel
from forecourt.core.admin import ReadOnlyAdmin
from forecourt.core.errors import DomainError
from forecourt.core.money import Money
from forecourt.offers.models import SubsidyApplication, SubsidyProgramme
from forecourt.offers.services import subsidy_programme_create
from forecourt.offers.services.subsidies import id_masked


class ProgrammeCreateForm(forms.ModelForm):
    amount_yuan = forms.DecimalField(
        label=_("Subsidy per applicant (yuan)"), min_value=Decimal("0.01"), decimal_places=2
    )
    pool_yuan = forms.DecimalField(label=_("Pool (yuan)"), min_value=Decimal("0.01"), decimal_places=2)
    eligible_models = forms.ModelMultipleChoiceField(
        label=_("Eligible models (none: every model)"), queryset=VehicleModel.objects.all(), required=False
    )

    class Meta:
        model = SubsidyProgramme
        fields = [
            "name",
            "name_en",
            "description",
            "description_en",
            "sponsor",
            "city",
            "opens_at",
            "closes_at",
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        amount, pool = data.get("amount_yuan"), data.get("pool_yuan")
        if amount is not None and pool is not None and pool < amount:
            self.add_error("pool_yuan", _("The pool must cover at least one subsidy."))
        return data


@admin.register(SubsidyProgramme)
class SubsidyProgrammeAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "sponsor",
        "city",
        "amount",
        "pool",
        "granted",
        "remaining",
        "opens_at",
        "closes_at",
    ]
    list_filter = ["sponsor"]
    search_fields = ["name", "name_en", "public_id"]
    readonly_fields = [
        "public_id", "campaign", "amount", "pool", "granted", "remaining", "opens_at", "closes_at", "sponsor",
        "city", "review_link",
    ]  # fmt: skip
    fields = [
        "public_id", "name", "name_en", "description", "description_en", "sponsor", "city", "amount", "pool",
        "granted", "remaining", "opens_at", "closes_at", "campaign", "review_link",
    ]  # fmt: skip

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = ProgrammeCreateForm
            kwargs["fields"] = [
                *ProgrammeCreateForm.Meta.fields,
                "amount_yuan",
                "pool_yuan",
                "eligible_models",
            ]
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return [*ProgrammeCreateForm.Meta.fields, "amount_yuan", "pool_yuan", "eligible_models"]
        return self.fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [] if obj is None else self.readonly_fields

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: SubsidyProgramme, form: Any, change: bool) -> None:
        if change:
            # Only the names and descriptions are editable; amounts and the pool never change here.
            obj.save(update_fields=["name", "name_en", "description", "description_en"])
            return
        data = form.cleaned_data
        try:
            created = subsidy_programme_create(
                name=data["name"],
                name_en=data.get("name_en", ""),
                description=data.get("description", ""),
                description_en=data.get("description_en", ""),
                sponsor=data["sponsor"],
                city=data.get("city"),
                amount_fen=int(data["amount_yuan"] * 100),
                pool_fen=int(data["pool_yuan"] * 100),
                opens_at=data["opens_at"],
                closes_at=data["closes_at"],
                eligible_models=[model.code for model in data.get("eligible_models") or []],
                actor=request.user,  # type: ignore[arg-type]
            )
        except DomainError as error:
            raise forms.ValidationError(error.message) from None
        obj.pk = created.pk
        obj.public_id = created.public_id

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        return None

    @admin.display(description=_("subsidy per applicant"))
    def amount(self, obj: SubsidyProgramme) -> str:
        return str(Money(obj.amount_fen))

    @admin.display(description=_("pool"))
    def pool(self, obj: SubsidyProgramme) -> str:
        return str(Money(obj.campaign.budget_fen or 0))

    @admin.display(description=_("granted"))
    def granted(self, obj: SubsidyProgramme) -> str:
        return str(Money(obj.campaign.claimed_fen))

    @admin.display(description=_("remaining"))
    def remaining(self, obj: SubsidyProgramme) -> str:
        return str(Money((obj.campaign.budget_fen or 0) - obj.campaign.claimed_fen))

    @admin.display(description=_("review"))
    def review_link(self, obj: SubsidyProgramme) -> str:
        url = reverse("subsidies:ops") + f"?programme={obj.public_id}"
        return format_html('<a href="{}">{}</a>', url, _("Review applications and download the audit report"))


# Never the ciphertext, the hash or the file's storage path: the masked ID and a role-checked link.
APPLICATION_FIELDS: tuple[str, ...] = (
    "public_id", "programme", "applicant", "status", "full_name", "id_document", "scrapped_plate",
    "certificate_number", "certificate_link", "intended_model", "intended_trim", "submitted_at",
    "decided_at", "decided_by", "reject_reason",
)  # fmt: skip


@admin.register(SubsidyApplication)
class SubsidyApplicationAdmin(ReadOnlyAdmin):
    list_display = [
        "public_id",
        "programme",
        "full_name",
        "id_document",
        "scrapped_plate",
        "status",
        "submitted_at",
    ]
    list_filter = ["status", "programme"]
    search_fields = ["public_id", "full_name", "scrapped_plate", "certificate_number"]
    date_hierarchy = "submitted_at"
    fields = APPLICATION_FIELDS
    readonly_fields = APPLICATION_FIELDS

    @admin.display(description=_("ID document"))
    def id_document(self, obj: SubsidyApplication) -> str:
        return id_masked(id_type=obj.id_type, last4=obj.id_number_last4)

    @admin.display(description=_("scrapping certificate"))
    def certificate_link(self, obj: SubsidyApplication) -> str:
        url = reverse("subsidies:ops-certificate", args=[obj.public_id])
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, _("View"))
