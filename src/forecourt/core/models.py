"""The event log, subscriber deliveries, the audit trail and idempotency records."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Event(models.Model):
    """A domain event, appended in the same transaction as the change it describes; never updated."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=80, db_index=True)
    occurred_at = models.DateTimeField(db_index=True)
    # The thing the event is about, by its public id (never a sequential key): "lead", "ld_7K3M...".
    subject_type = models.CharField(max_length=40, blank=True)
    subject_id = models.CharField(max_length=64, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Dealer the event belongs to, for tenant-scoped feeds and analytics; empty for OEM-wide events.
    dealer_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    payload = models.JSONField(default=dict)

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [models.Index(fields=["subject_type", "subject_id"])]
        verbose_name = _("event")
        verbose_name_plural = _("events")

    def __str__(self) -> str:
        return f"{self.name} {self.subject_type}:{self.subject_id}"


class EventDelivery(models.Model):
    """One subscriber's handling of one event; the unique pair makes handling idempotent."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        DONE = "done", _("done")
        FAILED = "failed", _("failed (will retry)")
        DEAD = "dead", _("given up")

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    subscriber = models.CharField(max_length=120)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "subscriber"], name="event_delivery_once_per_subscriber")
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.subscriber} ← {self.event_id} ({self.status})"


class AuditEntry(models.Model):
    """Who did what to which object, when and from where. Append-only."""

    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=80, db_index=True)
    object_type = models.CharField(max_length=40, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")

    def __str__(self) -> str:
        return (
            f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_type}:{self.object_id}"
        )


class IdempotencyRecord(models.Model):
    """The first answer to an externally triggered write, replayed for a repeat of the same key."""

    scope = models.CharField(max_length=60)
    key = models.CharField(max_length=200)
    request_fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="idempotency_key_once_per_scope")
        ]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}"


class RateCounter(models.Model):
    """Hits on one rate-limit key in one fixed window; written only by `core.ratelimit`'s one upsert.

    The key names the window, so a new window starts a new row and old rows only wait for the sweeper.
    """

    key = models.CharField(max_length=255, primary_key=True)
    count = models.PositiveIntegerField()
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.key} = {self.count}"
