"""Ops console for the member club: earn rules, tiers and benefits, members with their ledger, rewards.

The ledger is append-only: entries are shown, never edited. Ops correct a balance with an adjustment (a
new entry with a note) or grant an ops task's points, each through its service from the member's page.
"""

from __future__ import annotations

import itertools
import secrets
from collections import Counter
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import BaseModelFormSet
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
from forecourt.loyalty.models import (
    TIER_ORDER,
    EarnRule,
    EarnSource,
    Member,
    PointsEntry,
    Reward,
    RewardOrder,
    TierBenefit,
    TierRule,
)
from forecourt.loyalty.reward_selectors import rewards_with_claimable_campaign
from forecourt.loyalty.selectors import member_tier_progress, tier_thresholds
from forecourt.loyalty.services import ops_task_grant, points_adjust, points_state
from forecourt.loyalty.services.earning import TASK_CODE_MAX
from forecourt.offers.access import is_ops


class EarnRuleListFormSet(BaseModelFormSet):
    """The rules list switches rules on and off: one active rule per source, checked here because the list's
    forms do not carry `source` (so the model's constraint is not validated by them)."""

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        active = dict(EarnRule.objects.filter(is_active=True).values_list("pk", "source"))
        for form in self.forms:
            rule = form.instance
            if rule.pk is None:
                continue
            if form.cleaned_data.get("is_active"):
                active[rule.pk] = rule.source
            else:
                active.pop(rule.pk, None)
        counts = Counter(active.values())
        doubled = sorted(source for source, count in counts.items() if count > 1)
        if doubled:
            raise ValidationError(
                _("Only one rule per source can be active; switch the other one off first: %(sources)s.")
                % {"sources": ", ".join(str(EarnSource(source).label) for source in doubled)}
            )


@admin.register(EarnRule)
class EarnRuleAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "source",
        "points",
        "fen_per_point",
        "holding_days",
        "daily_limit",
        "qualifying",
        "is_active",
        "updated_at",
    ]
    list_filter = ["source", "is_active"]
    list_editable = ["is_active"]

    def get_changelist_formset(self, request: HttpRequest, **kwargs: Any) -> Any:
        return super().get_changelist_formset(request, formset=EarnRuleListFormSet, **kwargs)


class TierRuleForm(forms.ModelForm):
    class Meta:
        model = TierRule
        fields = ["tier", "min_points"]

    def clean(self) -> dict[str, Any]:
        """Thresholds must rise with the tiers, or a member could hold two tiers at once."""
        cleaned = super().clean() or {}
        tier, minimum = cleaned.get("tier"), cleaned.get("min_points")
        if tier is None or minimum is None:
            return cleaned
        if tier == "standard" and minimum != 0:
            raise ValidationError(_("The standard card is every member's: it needs 0 points."))
        thresholds = dict(tier_thresholds())
        thresholds[tier] = minimum
        ranked = [thresholds[name] for name in TIER_ORDER]
        if any(lower >= higher for lower, higher in itertools.pairwise(ranked)):
            raise ValidationError(_("Each tier must need more points than the tier below it."))
        return cleaned


@admin.register(TierRule)
class TierRuleAdmin(admin.ModelAdmin):
    form = TierRuleForm
    list_display = ["tier", "min_points"]


@admin.register(TierBenefit)
class TierBenefitAdmin(admin.ModelAdmin):
    list_display = ["tier", "code", "title", "value", "position"]
    list_filter = ["tier"]
    search_fields = ["code", "title"]


class EntryInline(admin.TabularInline):
    model = PointsEntry
    fk_name = "member"
    fields = ("occurred_at", "kind", "points", "reason", "note", "source_ref", "available_at", "expires_at")
    readonly_fields = fields
    ordering = ["-occurred_at", "-id"]
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AdjustForm(forms.Form):
    points = forms.IntegerField(
        label=gettext_lazy("Points (negative to take away)"), min_value=-1_000_000, max_value=1_000_000
    )
    note = forms.CharField(label=gettext_lazy("Why (the member reads this)"), max_length=200, strip=True)
    # Made when the form is shown: a double submit records one adjustment.
    key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def clean_points(self) -> int:
        points = int(self.cleaned_data["points"])
        if points == 0:
            raise ValidationError(_("An adjustment needs a non-zero amount."))
        return points


class TaskForm(forms.Form):
    task = forms.SlugField(label=gettext_lazy("Task code"), max_length=TASK_CODE_MAX)
    note = forms.CharField(label=gettext_lazy("Task (the member reads this)"), max_length=200, strip=True)
    points = forms.IntegerField(
        label=gettext_lazy("Points (empty: the ops-task rule's)"),
        required=False,
        min_value=1,
        max_value=1_000_000,
    )


@admin.register(Member)
class MemberAdmin(ReadOnlyAdmin):
    list_display = ["number", "user", "joined_at", "tier", "actions_column"]
    search_fields = ["number", "user__username", "user__display_name"]
    list_select_related = ["user"]
    readonly_fields = ("number", "user", "joined_at", "expiries_written_to", "points", "tier")
    fields = readonly_fields
    inlines = [EntryInline]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_ops(request.user) or super().has_view_permission(request, obj)

    @admin.display(description=gettext_lazy("tier"))
    def tier(self, obj: Member) -> str:
        return member_tier_progress(obj).label

    @admin.display(description=gettext_lazy("points"))
    def points(self, obj: Member) -> str:
        state = points_state(obj)
        return _("balance %(balance)s · spendable %(spendable)s · pending %(pending)s · owed %(debt)s") % {
            "balance": state.balance,
            "spendable": state.spendable,
            "pending": state.pending,
            "debt": state.debt,
        }

    @admin.display(description=gettext_lazy("actions"))
    def actions_column(self, obj: Member) -> str:
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a>',
            reverse("admin:loyalty_member_adjust", args=[obj.pk]),
            _("Adjust points…"),
            reverse("admin:loyalty_member_task", args=[obj.pk]),
            _("Grant task points…"),
        )

    def get_urls(self) -> list[Any]:
        custom = [
            path(
                "<int:pk>/adjust/", self.admin_site.admin_view(self.adjust_view), name="loyalty_member_adjust"
            ),
            path("<int:pk>/task/", self.admin_site.admin_view(self.task_view), name="loyalty_member_task"),
        ]
        return custom + super().get_urls()

    def _form_page(self, request: HttpRequest, member: Member, form: forms.Form, title: str) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "member": member,
            "state": points_state(member),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "loyalty/admin/member_form.html", context)

    def adjust_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Ops add or take away points with a note (`points_adjust`; a take-away may leave a debt)."""
        if not is_ops(request.user):
            raise PermissionDenied
        member = get_object_or_404(Member.objects.select_related("user"), pk=pk)
        form = AdjustForm(request.POST or None, initial={"key": secrets.token_urlsafe(18)})
        if request.method == "POST" and form.is_valid():
            try:
                points_adjust(
                    member=member,
                    points=form.cleaned_data["points"],
                    note=form.cleaned_data["note"],
                    actor=cast(User, request.user),
                    idempotency_key=f"ops-adjust:{member.pk}:{form.cleaned_data['key']}",
                )
            except DomainError as error:
                messages.error(request, error.message)
            else:
                messages.success(
                    request, _("The points of card %(number)s are adjusted.") % {"number": member.number}
                )
                return redirect("admin:loyalty_member_change", member.pk)
        return self._form_page(
            request, member, form, _("Adjust the points of card %(number)s") % {"number": member.number}
        )

    def task_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Ops grant an ops task's points (`ops_task_grant`: once per member and task)."""
        if not is_ops(request.user):
            raise PermissionDenied
        member = get_object_or_404(Member.objects.select_related("user"), pk=pk)
        form = TaskForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                entry = ops_task_grant(
                    member=member,
                    task=form.cleaned_data["task"],
                    note=form.cleaned_data["note"],
                    points=form.cleaned_data["points"],
                    actor=request.user,
                )
            except DomainError as error:
                messages.error(request, error.message)
            else:
                messages.success(
                    request,
                    _("%(points)s task points for card %(number)s.")
                    % {"points": entry.points, "number": member.number},
                )
                return redirect("admin:loyalty_member_change", member.pk)
        return self._form_page(
            request, member, form, _("Grant task points to card %(number)s") % {"number": member.number}
        )


@admin.register(PointsEntry)
class PointsEntryAdmin(ReadOnlyAdmin):
    list_display = [
        "occurred_at",
        "member",
        "kind",
        "points",
        "reason",
        "source_ref",
        "available_at",
        "expires_at",
    ]
    list_filter = ["kind", "reason", "qualifying"]
    search_fields = ["member__number", "source_ref", "reason", "note"]
    date_hierarchy = "occurred_at"
    list_select_related = ["member"]
    exclude = ["idempotency_key"]


# Why a reward's voucher campaign stays switched off in offers, in the words ops read on the reward's form.
CAMPAIGN_OFF_HELP = gettext_lazy(
    "An offers campaign kept switched off (not active): only redemptions issue its vouchers, and its count "
    "budget is the reward's stock. Never switch it on in offers: anyone could then claim the reward free."
)


class RewardForm(forms.ModelForm):
    class Meta:
        model = Reward
        fields = [
            "title",
            "description",
            "kind",
            "points_cost",
            "cash_fen",
            "campaign",
            "min_tier",
            "is_active",
            "position",
        ]
        help_texts = {"campaign": CAMPAIGN_OFF_HELP}

    def clean_campaign(self) -> Any:
        """A claimable campaign would hand the reward out for nothing: refuse it until ops switch it off."""
        campaign = self.cleaned_data.get("campaign")
        if campaign is not None and campaign.is_active:
            raise ValidationError(
                _(
                    "This campaign is switched on, so anyone can claim its vouchers free in the offers "
                    "catalogue. Switch it off in offers first: a reward's campaign issues vouchers only "
                    "through redemptions."
                )
            )
        return campaign


@admin.register(Reward)
class RewardAdmin(admin.ModelAdmin):
    form = RewardForm
    list_display = [
        "title",
        "kind",
        "points_cost",
        "cash_fen",
        "min_tier",
        "is_active",
        "position",
        "campaign_switched_off",
    ]
    list_filter = ["kind", "is_active", "min_tier"]
    list_editable = ["is_active", "position"]
    list_select_related = ["campaign"]
    search_fields = ["title"]
    readonly_fields = ["public_id"]
    raw_id_fields = ["campaign"]

    @admin.display(description=gettext_lazy("campaign switched off"), boolean=True)
    def campaign_switched_off(self, obj: Reward) -> bool:
        return not obj.campaign.is_active

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        # Someone may switch a reward's campaign on in offers later: say so wherever ops look at rewards.
        exposed = rewards_with_claimable_campaign()
        if exposed:
            messages.warning(
                request,
                _(
                    "The voucher campaign of these rewards is switched on, so anyone can claim them free "
                    "in the offers catalogue: %(titles)s. Switch the campaigns off in offers."
                )
                % {"titles": ", ".join(reward.title for reward in exposed)},
            )
        return super().changelist_view(request, extra_context)


@admin.register(RewardOrder)
class RewardOrderAdmin(ReadOnlyAdmin):
    list_display = [
        "public_id",
        "created_at",
        "member",
        "reward",
        "status",
        "points",
        "cash_fen",
        "voucher_code",
    ]
    list_filter = ["status", "reward"]
    search_fields = ["public_id", "member__number", "voucher_code", "payment_intent"]
    list_select_related = ["member", "reward"]
    exclude = ["idempotency_key"]
