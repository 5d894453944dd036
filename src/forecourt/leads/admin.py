"""Ops console for leads: read-only views of leads and their history, and the SLA policy (editable).

Leads change only through the services (the workspace and the API), so every change has its event;
the console shows them, filtered, for the OEM to audit.
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from forecourt.leads.models import (
    ContactAttempt,
    DefeatReview,
    Lead,
    LeadReopening,
    RoutingDecision,
    SlaPolicy,
    Touchpoint,
)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TouchpointInline(ReadOnlyInline):
    model = Touchpoint
    fields = [
        "occurred_at",
        "channel",
        "campaign",
        "source_site",
        "broker_code",
        "utm",
        "landing_page",
        "message",
    ]


class RoutingDecisionInline(ReadOnlyInline):
    model = RoutingDecision
    fields = ["decided_at", "kind", "dealer", "reason_code", "reason", "sla_deadline"]


class ContactAttemptInline(ReadOnlyInline):
    model = ContactAttempt
    fields = ["at", "dealer", "staff", "outcome", "note"]


class DefeatReviewInline(ReadOnlyInline):
    model = DefeatReview
    fields = ["requested_at", "reason", "evidence", "requested_by", "decision", "reviewed_by", "reviewed_at"]


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = [
        "public_id",
        "name",
        "status",
        "dealer",
        "advisor",
        "model",
        "first_channel",
        "created_at",
        "sla_deadline",
        "reroute_count",
    ]
    list_filter = ["status", "first_channel", "model", "oem_queue_reason"]
    search_fields = ["public_id", "name", "dealer__name"]
    date_hierarchy = "created_at"
    list_select_related = ["dealer", "advisor", "model"]
    # The person is shown by account, never by phone number.
    exclude = ["person"]
    inlines = [TouchpointInline, RoutingDecisionInline, ContactAttemptInline, DefeatReviewInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(DefeatReview)
class DefeatReviewAdmin(admin.ModelAdmin):
    list_display = ["lead", "dealer", "reason", "decision", "requested_by", "requested_at", "reviewed_by"]
    list_filter = ["decision", "reason", "dealer"]
    search_fields = ["lead__public_id", "lead__name"]
    list_select_related = ["lead", "dealer", "requested_by", "reviewed_by"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LeadReopening)
class LeadReopeningAdmin(admin.ModelAdmin):
    list_display = ["lead", "reopened_by", "at", "note"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "oem_code",
        "first_contact_business_minutes",
        "business_day_start",
        "business_day_end",
        "max_reroutes",
        "routing_nearest_count",
    ]
