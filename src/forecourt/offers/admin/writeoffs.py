"""Ops console: write-offs (read-only, filtered by place and state) and their reversal with a reason."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from forecourt.accounts.models import User
from forecourt.core.admin import ReadOnlyAdmin
from forecourt.core.errors import DomainError
from forecourt.offers.access import is_ops
from forecourt.offers.models import Redemption
from forecourt.offers.services.redemption import redemption_reverse


class ReversedFilter(admin.SimpleListFilter):
    title = gettext_lazy("reversed")
    parameter_name = "reversed"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("no", gettext_lazy("Standing")), ("yes", gettext_lazy("Reversed"))]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        if self.value() == "no":
            return queryset.filter(reversed_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(reversed_at__isnull=False)
        return queryset


class ReversalForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why is this write-off reversed?"), max_length=300, strip=True
    )


@admin.register(Redemption)
class RedemptionAdmin(ReadOnlyAdmin):
    list_display = [
        "redeemed_at",
        "voucher_code",
        "campaign",
        "place",
        "value_fen",
        "redeemed_by",
        "reversal",
    ]
    list_filter = [ReversedFilter, "voucher__kind", "dealer", "merchant", "voucher__campaign", "redeemed_at"]
    search_fields = ["voucher__code", "place", "order_reference"]
    date_hierarchy = "redeemed_at"
    list_select_related = ["voucher", "voucher__campaign", "redeemed_by"]
    readonly_fields = [
        "voucher",
        "redeemed_at",
        "redeemed_by",
        "dealer",
        "merchant",
        "place",
        "order_reference",
        "value_fen",
        "reversed_at",
        "reversed_by",
        "reverse_reason",
    ]
    exclude = ["idempotency_key"]

    @admin.display(description=gettext_lazy("voucher"), ordering="voucher__code")
    def voucher_code(self, obj: Redemption) -> str:
        return obj.voucher.display_code

    @admin.display(description=gettext_lazy("campaign"))
    def campaign(self, obj: Redemption) -> str:
        return obj.voucher.campaign.display_name

    @admin.display(description=gettext_lazy("reversal"))
    def reversal(self, obj: Redemption) -> str:
        if obj.reversed_at is not None:
            return _("Reversed: %(reason)s") % {"reason": obj.reverse_reason}
        url = reverse("admin:offers_redemption_reverse", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Reverse…"))

    def get_urls(self) -> list[Any]:
        custom = [
            path(
                "<int:pk>/reverse/",
                self.admin_site.admin_view(self.reverse_view),
                name="offers_redemption_reverse",
            )
        ]
        return custom + super().get_urls()

    def reverse_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """A form asking for the reason; posting it calls `redemption_reverse` (ops only, audited)."""
        if not is_ops(request.user):
            raise PermissionDenied
        redemption = get_object_or_404(Redemption.objects.select_related("voucher"), pk=pk)
        form = ReversalForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                redemption_reverse(
                    redemption=redemption, actor=cast(User, request.user), reason=form.cleaned_data["reason"]
                )
            except DomainError as error:
                messages.error(request, error.message)
            else:
                messages.success(
                    request,
                    _("The write-off of %(code)s is reversed.") % {"code": redemption.voucher.display_code},
                )
                return redirect("admin:offers_redemption_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": _("Reverse the write-off of %(code)s") % {"code": redemption.voucher.display_code},
            "redemption": redemption,
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "offers/workspace/admin_reverse.html", context)
