from django.contrib import admin

from forecourt.core.admin import ReadOnlyAdmin
from forecourt.payments.models import LedgerEntry, PaymentIntent, PaymentNotification, Refund


@admin.register(PaymentIntent)
class PaymentIntentAdmin(ReadOnlyAdmin):
    list_display = [
        "public_id", "created_at", "purpose", "reference", "amount_fen", "provider", "status",
        "paid_at", "refunded_fen",
    ]  # fmt: skip
    list_filter = ["status", "provider", "purpose"]
    search_fields = ["public_id", "reference", "out_trade_no", "provider_trade_no", "receipt_number"]
    date_hierarchy = "created_at"


@admin.register(PaymentNotification)
class PaymentNotificationAdmin(ReadOnlyAdmin):
    list_display = [
        "received_at", "provider", "source", "notification_id", "out_trade_no", "status", "outcome",
        "reason", "ip",
    ]  # fmt: skip
    list_filter = ["outcome", "provider", "reason"]
    search_fields = ["notification_id", "out_trade_no"]
    date_hierarchy = "received_at"


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ["public_id", "created_at", "intent", "amount_fen", "status", "reason"]
    list_filter = ["status"]
    search_fields = ["public_id", "out_refund_no", "intent__public_id", "intent__reference"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "group", "account", "amount_fen", "currency", "kind"]
    list_filter = ["kind", "account"]
    search_fields = ["group", "intent__public_id"]
