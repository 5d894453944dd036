"""Ops console views of slots and appointments: read-mostly; changes go through the services."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from forecourt.appointments.models import Appointment, Slot, SlotTemplate, TestDriveLog


@admin.register(SlotTemplate)
class SlotTemplateAdmin(admin.ModelAdmin):
    list_display = ["dealer", "kind", "slot_minutes", "capacity"]
    list_filter = ["kind"]
    autocomplete_fields = ["dealer"]


class ReadOnlyAdmin(admin.ModelAdmin):
    # Counters and statuses move only through the services (conditional updates, events).
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Slot)
class SlotAdmin(ReadOnlyAdmin):
    list_display = ["dealer", "kind", "start", "end", "booked", "capacity"]
    list_filter = ["kind"]
    date_hierarchy = "start"


@admin.register(Appointment)
class AppointmentAdmin(ReadOnlyAdmin):
    list_display = ["public_id", "dealer", "kind", "status", "slot", "created_at", "checked_in_at"]
    list_filter = ["kind", "status"]
    search_fields = ["public_id", "lead_id"]
    date_hierarchy = "created_at"
    list_select_related = ["dealer", "slot"]


@admin.register(TestDriveLog)
class TestDriveLogAdmin(ReadOnlyAdmin):
    list_display = ["appointment", "car", "advisor", "started_at", "finished_at", "duration_seconds"]
