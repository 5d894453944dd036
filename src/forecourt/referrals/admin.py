"""Ops console: the broker programme.

- Brokers: enrol a professional (or an owner) through the service; suspend or reactivate, move city.
- Commission rules: what a CPL or CPS pays per model and campaign (one active rule per scope).
- Tasks, commissions, statements and payouts are read-only here: they change only through services, on
  the programme's ops pages at /referrals/ops/ (publish and close tasks, decide held commissions, issue
  statements, record payouts), which the pages here link to.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from forecourt.accounts.models import User
from forecourt.core.admin import ReadOnlyAdmin
from forecourt.core.audit import audit_record
from forecourt.core.errors import DomainError
from forecourt.core.money import Money
from forecourt.referrals.models import (
    Broker,
    BrokerKind,
    Commission,
    CommissionRule,
    Payout,
    Statement,
    Task,
)
from forecourt.referrals.services import broker_enrol


class BrokerEnrolForm(forms.ModelForm):
    user = forms.ModelChoiceField(
        label=_("person"),
        queryset=User.objects.filter(is_active=True, broker__isnull=True).order_by("username"),
        help_text=_("A consumer or broker account; staff and partners cannot be brokers."),
    )

    class Meta:
        model = Broker
        fields = ["user", "kind", "city"]

    def _post_clean(self) -> None:
        # The last step of validation: enrol through the service (it checks eligibility and records the
        # event), so nothing can fail after the broker exists. The model's own validation is the service's.
        if self.errors or self.request_user is None:
            return
        data = self.cleaned_data
        try:
            self.enrolled = broker_enrol(
                user=data["user"],
                actor=self.request_user,
                kind=data.get("kind") or BrokerKind.PROFESSIONAL,
                city=data.get("city"),
            )
        except DomainError as error:
            self.add_error(None, error.message)

    request_user: Any = None
    enrolled: Broker | None = None


@admin.register(Broker)
class BrokerAdmin(admin.ModelAdmin):
    list_display = ["code", "user", "kind", "status", "city", "enrolled_at"]
    list_filter = ["kind", "status", "city"]
    search_fields = ["code", "user__username", "user__display_name", "user__public_id"]
    fields = ["code", "user", "kind", "status", "city", "enrolled_at", "enrolled_by"]
    readonly_fields = ["code", "user", "kind", "enrolled_at", "enrolled_by"]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = BrokerEnrolForm
            form_class = super().get_form(request, obj, change=change, **kwargs)
            # The form enrols through the service in clean(), which needs to know who is enrolling.
            return type("BoundBrokerEnrolForm", (form_class,), {"request_user": request.user})
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ["user", "kind", "city"] if obj is None else self.fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [] if obj is None else self.readonly_fields

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"kind": BrokerKind.PROFESSIONAL}

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Broker, form: Any, change: bool) -> None:
        if not change:
            enrolled = getattr(form, "enrolled", None)
            assert enrolled is not None
            obj.pk = enrolled.pk
            obj.code = enrolled.code
            return
        # Only the status (suspend / reactivate) and the leaderboard's city change here.
        obj.save(update_fields=["status", "city"])
        audit_record(
            actor=request.user,
            action="referrals.broker_changed",
            object_type="broker",
            object_id=obj.code,
            details={"status": obj.status, "city": obj.city.code if obj.city else None},
        )


class CommissionRuleForm(forms.ModelForm):
    # At most ¥9,999,999,999.99: well inside the fen column.
    amount_yuan = forms.DecimalField(
        label=_("amount (yuan)"), min_value=Decimal("0.01"), max_digits=12, decimal_places=2
    )

    class Meta:
        model = CommissionRule
        fields = ["kind", "model_code", "campaign", "is_active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["amount_yuan"].initial = Decimal(self.instance.amount_fen) / 100

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        amount = data.get("amount_yuan")
        if amount is not None:
            # Before the model's validation (the constraints), so it sees the amount in fen.
            self.instance.amount_fen = int(amount * 100)
        return data


@admin.register(CommissionRule)
class CommissionRuleAdmin(admin.ModelAdmin):
    form = CommissionRuleForm
    list_display = ["kind", "model_code", "campaign", "amount", "is_active"]
    list_filter = ["kind", "is_active"]
    fields = ["kind", "model_code", "campaign", "amount_yuan", "is_active"]

    @admin.display(description=_("amount"))
    def amount(self, obj: CommissionRule) -> str:
        return str(Money(obj.amount_fen))


@admin.register(Task)
class TaskAdmin(ReadOnlyAdmin):
    list_display = ["title", "goal", "kind", "city", "model_code", "amount", "committed", "budget", "status"]
    list_filter = ["status", "goal", "kind"]
    search_fields = ["title", "public_id"]
    readonly_fields = ["ops_link"]

    @admin.display(description=_("per result"))
    def amount(self, obj: Task) -> str:
        return str(Money(obj.amount_fen))

    @admin.display(description=_("committed"))
    def committed(self, obj: Task) -> str:
        return str(Money(obj.committed_fen))

    @admin.display(description=_("budget"))
    def budget(self, obj: Task) -> str:
        return str(Money(obj.budget_fen))

    @admin.display(description=_("manage"))
    def ops_link(self, obj: Task) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("referrals-ops:task", args=[obj.public_id]),
            _("Publish, follow and close the task on the programme's ops page"),
        )


@admin.register(Commission)
class CommissionAdmin(ReadOnlyAdmin):
    list_display = ["public_id", "broker", "kind", "task", "amount", "status", "available_at", "statement"]
    list_filter = ["status", "kind"]
    search_fields = ["public_id", "broker__code", "referral__public_id"]
    list_select_related = ["broker", "task", "statement"]

    @admin.display(description=_("amount"))
    def amount(self, obj: Commission) -> str:
        return str(Money(obj.amount_fen))


class PayoutInline(admin.StackedInline):
    model = Payout
    can_delete = False
    extra = 0
    readonly_fields = ["amount_fen", "reference", "paid_at", "recorded_by"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Statement)
class StatementAdmin(ReadOnlyAdmin):
    list_display = ["public_id", "broker", "month", "gross", "tax", "net", "status", "issued_at"]
    list_filter = ["status", "month"]
    search_fields = ["public_id", "broker__code"]
    list_select_related = ["broker"]
    inlines = [PayoutInline]
    readonly_fields = ["ops_link"]

    @admin.display(description=_("gross"))
    def gross(self, obj: Statement) -> str:
        return str(Money(obj.gross_fen))

    @admin.display(description=_("tax withheld"))
    def tax(self, obj: Statement) -> str:
        return str(Money(obj.tax_fen))

    @admin.display(description=_("net"))
    def net(self, obj: Statement) -> str:
        return str(Money(obj.net_fen))

    @admin.display(description=_("manage"))
    def ops_link(self, obj: Statement) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("referrals-ops:statement", args=[obj.public_id]),
            _("Record the payout and download the statement on the programme's ops page"),
        )


@admin.register(Payout)
class PayoutAdmin(ReadOnlyAdmin):
    list_display = ["reference", "statement", "amount", "paid_at", "recorded_by"]
    search_fields = ["reference", "statement__public_id"]

    @admin.display(description=_("amount"))
    def amount(self, obj: Payout) -> str:
        return str(Money(obj.amount_fen))
