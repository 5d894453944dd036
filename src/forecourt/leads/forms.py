"""Forms of the lead pages: they parse and check input; the services decide."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from forecourt.core import clock
from forecourt.leads.models import Channel, ContactOutcome, DefeatReason, LeadStatus

INQUIRY_CHANNELS = [
    (Channel.WEB_PRICE_INQUIRY.value, _("Ask for the price")),
    (Channel.WEB_QUESTION.value, _("Ask a question")),
    (Channel.WEB_TEST_DRIVE.value, _("Ask for a test drive")),
]


class InquiryForm(forms.Form):
    """The consumer's "ask for the price / ask a question" form on a model page."""

    model = forms.SlugField(max_length=40, widget=forms.HiddenInput)
    channel = forms.ChoiceField(choices=INQUIRY_CHANNELS, widget=forms.HiddenInput)
    name = forms.CharField(label=pgettext_lazy("lead form", "Your name"), max_length=60)
    phone = forms.CharField(label=pgettext_lazy("lead form", "Mobile number"), max_length=32)
    city = forms.SlugField(label=_("City"), max_length=40)
    question = forms.CharField(
        label=_("Your question"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    share_with_dealer = forms.BooleanField(required=False)
    dealer = forms.CharField(max_length=32, required=False, widget=forms.HiddenInput)
    campaign = forms.CharField(max_length=80, required=False, widget=forms.HiddenInput)
    source_site = forms.CharField(max_length=80, required=False, widget=forms.HiddenInput)
    broker_code = forms.CharField(max_length=40, required=False, widget=forms.HiddenInput)
    utm_source = forms.CharField(max_length=200, required=False, widget=forms.HiddenInput)
    utm_medium = forms.CharField(max_length=200, required=False, widget=forms.HiddenInput)
    utm_campaign = forms.CharField(max_length=200, required=False, widget=forms.HiddenInput)
    utm_term = forms.CharField(max_length=200, required=False, widget=forms.HiddenInput)
    utm_content = forms.CharField(max_length=200, required=False, widget=forms.HiddenInput)
    landing_page = forms.CharField(max_length=500, required=False, widget=forms.HiddenInput)

    def utm(self) -> dict[str, str]:
        keys = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
        return {key: self.cleaned_data[key] for key in keys if self.cleaned_data.get(key)}


class ContactAttemptForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=ContactOutcome.choices)
    note = forms.CharField(
        label=_("Note"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class FollowUpForm(forms.Form):
    at = forms.DateTimeField(
        label=_("Next follow-up"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


class MoveForm(forms.Form):
    status = forms.ChoiceField(choices=LeadStatus.choices)


class DefeatRequestForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=DefeatReason.choices)
    evidence = forms.CharField(
        label=_("Evidence"),
        max_length=2000,
        min_length=10,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What you did and what the person said; at least one call must be logged."),
    )


class DefeatReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("reject", _("Reject"))])
    note = forms.CharField(label=_("Note"), max_length=500, required=False)


class AssignForm(forms.Form):
    advisor = forms.CharField(label=_("Advisor"), max_length=32)


class StaffEntryForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60)
    phone = forms.CharField(label=pgettext_lazy("lead form", "Mobile number"), max_length=32)
    model = forms.SlugField(label=_("Model"), max_length=40)
    channel = forms.ChoiceField(
        label=_("How they came"),
        choices=[
            (Channel.WALK_IN.value, Channel.WALK_IN.label),
            (Channel.PHONE_CALL.value, Channel.PHONE_CALL.label),
        ],
    )
    note = forms.CharField(
        label=_("Note"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    share_with_dealer = forms.BooleanField(
        label=_("The person agrees that this dealer keeps their name and number to follow up."),
        required=False,
    )


class InboxFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("All")), *LeadStatus.choices], required=False
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    mine = forms.BooleanField(label=_("Mine only"), required=False)
    q = forms.CharField(label=_("Search"), max_length=60, required=False)


class KpiPeriodForm(forms.Form):
    start = forms.DateField(
        label=pgettext_lazy("kpi period", "From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    end = forms.DateField(
        label=pgettext_lazy("kpi period", "To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    dealer = forms.CharField(label=_("Dealer"), max_length=32, required=False)

    def period(self) -> tuple[date, date]:
        today = clock.local_now().date()
        data: dict[str, Any] = self.cleaned_data if self.is_valid() else {}
        end = data.get("end") or today
        start = data.get("start") or end - timedelta(days=29)
        if start > end:
            start, end = end, start
        return start, min(end, start + timedelta(days=365))
