from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from forecourt.core.models import AuditEntry, Event, EventDelivery


class ReadOnlyAdmin(admin.ModelAdmin):
    """For rows that change only through services (logs, counters, statuses): the console only shows them."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["occurred_at", "name", "subject_type", "subject_id", "actor", "dealer_id"]
    list_filter = ["name"]
    search_fields = ["subject_id", "name"]


@admin.register(EventDelivery)
class EventDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["event", "subscriber", "status", "attempts", "next_attempt_at"]
    list_filter = ["status", "subscriber"]


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor_label", "action", "object_type", "object_id", "ip_address"]
    list_filter = ["action"]
    search_fields = ["object_id", "actor_label", "action"]
