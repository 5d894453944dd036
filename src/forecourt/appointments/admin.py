"""Ops console views of slots and appointments: read-mostly; changes go through the services."""

from django.contrib import admin

from forecourt.appointments.models import Appointment, Slot, SlotTemplate, TestDriveLog
from forecourt.core.admin import ReadOnlyAdmin


@admin.register(SlotTemplate)
class SlotTemplateAdmin(admin.ModelAdmin):
    list_display = ["dealer", "kind", "slot_minutes", "capacity"]
    list_filter = ["kind"]
    autocomplete_fields = ["dealer"]


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
