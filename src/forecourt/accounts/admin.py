"""Ops console for people: users with their role and dealer; consents, codes and the outbox read-only."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from forecourt.accounts.models import ApiToken, Consent, OutboxMessage, SmsCode, User
from forecourt.accounts.services import api_token_revoke
from forecourt.core.admin import ReadOnlyAdmin


@admin.register(User)
class ForecourtUserAdmin(UserAdmin):
    list_display = ["username", "display_name", "role", "dealer", "masked_phone", "is_active", "last_login"]
    list_filter = ["role", "is_active", "is_staff"]
    search_fields = ["username", "display_name", "public_id", "email"]
    list_select_related = ["dealer"]
    raw_id_fields = ["dealer"]
    readonly_fields = ["public_id", "masked_phone", "last_login", "date_joined"]
    fieldsets = (
        (None, {"fields": ["username", "password", "public_id"]}),
        (_("Forecourt"), {"fields": ["role", "dealer", "display_name", "masked_phone"]}),
        (_("Personal info"), {"fields": ["first_name", "last_name", "email"]}),
        (
            _("Permissions"),
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        (_("Important dates"), {"fields": ["last_login", "date_joined"]}),
    )
    add_fieldsets = (
        (None, {"classes": ["wide"], "fields": ["username", "password1", "password2"]}),
        (_("Forecourt"), {"fields": ["role", "dealer", "display_name"]}),
    )

    @admin.display(description=_("mobile number"))
    def masked_phone(self, obj: User) -> str:
        return obj.masked_phone


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdmin):
    list_display = [
        "user",
        "purpose",
        "text_version",
        "granted_at",
        "method",
        "withdrawn_at",
        "withdrawal_method",
    ]
    list_filter = ["purpose", "method", "withdrawal_method", "text_version"]
    search_fields = ["user__username", "user__public_id"]
    list_select_related = ["user"]
    date_hierarchy = "granted_at"


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "phone_masked", "purpose", "text"]
    list_filter = ["purpose"]
    exclude = ["phone_hash", "phone_encrypted"]


@admin.register(SmsCode)
class SmsCodeAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "purpose", "expires_at", "attempts", "consumed_at", "superseded_at"]
    list_filter = ["purpose"]
    exclude = ["phone_hash", "code_hash"]


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ["public_id", "user", "created_at", "last_used_at", "expires_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["public_id", "user__username", "user__public_id"]
    list_select_related = ["user"]
    exclude = ["key_hash"]
    actions = ["revoke"]

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        # Tokens are never edited in a form; revoking needs the change permission all the same.
        return bool(request.user.has_perm("accounts.change_apitoken"))

    @admin.action(description=_("Revoke selected tokens"), permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        count = 0
        for token in queryset.filter(revoked_at__isnull=True).order_by("pk"):
            api_token_revoke(token=token, actor=request.user)
            count += 1
        self.message_user(
            request,
            ngettext("%(count)d token revoked.", "%(count)d tokens revoked.", count) % {"count": count},
            messages.SUCCESS,
        )
