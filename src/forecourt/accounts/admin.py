from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from forecourt.accounts.models import User


@admin.register(User)
class ForecourtUserAdmin(UserAdmin):
    list_display = ["username", "display_name", "role", "dealer", "is_active"]
    list_filter = ["role", "is_active"]
    fieldsets = (*UserAdmin.fieldsets, ("Forecourt", {"fields": ["role", "dealer", "display_name"]}))
