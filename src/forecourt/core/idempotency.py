"""Exactly-once for external writes: a key under a unique constraint, the first answer replayed."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from forecourt.core.clock import now
from forecourt.core.errors import CoreErrorCode, DomainError
from forecourt.core.models import IdempotencyRecord

# Keys are kept at least this long; a sweeper deletes older ones.
RETENTION = timedelta(hours=48)
IDEMPOTENCY_HEADER = "Idempotency-Key"


def request_fingerprint(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def idempotency_key_from_header(value: str | None) -> str:
    """The `Idempotency-Key` header's value, or a 422 naming the header when it is missing or unusable."""
    key = (value or "").strip()
    if not key or len(key) > 200 or not key.isprintable():
        message = _("The Idempotency-Key header is required (1–200 characters).")
        raise DomainError(
            CoreErrorCode.INVALID,
            message,
            status=422,
            details=[{"field": IDEMPOTENCY_HEADER, "message": message}],
        )
    return key


def idempotent_call(
    *, scope: str, key: str, body: Any, perform: Callable[[], tuple[int, Any]]
) -> tuple[int, Any]:
    """Run `perform` once per (scope, key); a repeat with the same body gets the first (status, body).

    The answer's keys are sorted, first time and replay alike: a replay comes back from a JSON column
    (PostgreSQL's jsonb reorders keys), so the same request reads the same either way.

    The key is claimed (its row inserted) before `perform` runs, in the same transaction: a concurrent
    duplicate blocks on the unique key until the first commits, then replays its answer, instead of doing
    the work a second time only to roll it back. If `perform` raises, the claim rolls back with its writes.
    """
    if not key or len(key) > 200:
        raise DomainError(
            CoreErrorCode.INVALID,
            _("The Idempotency-Key header is required (1–200 characters)."),
            status=422,
            details={"field": "Idempotency-Key"},
        )
    fingerprint = request_fingerprint(body)
    existing = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
    if existing is not None:
        return _replay(existing, fingerprint)
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                scope=scope,
                key=key,
                request_fingerprint=fingerprint,
                response_status=0,
                response_body={},
                created_at=now(),
            )
            status, response = perform()
            response = _keys_sorted(response)
            record.response_status = status
            record.response_body = response
            record.save(update_fields=["response_status", "response_body"])
            return status, response
    except IntegrityError:
        existing = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
        if existing is None:
            raise
        return _replay(existing, fingerprint)


def idempotency_key_used(*, scope: str, key: str) -> bool:
    """Whether (scope, key) already has an answer: a caller's fast refusal must not pre-empt its replay."""
    return IdempotencyRecord.objects.filter(scope=scope, key=key).exists()


def _replay(record: IdempotencyRecord, fingerprint: str) -> tuple[int, Any]:
    if record.request_fingerprint != fingerprint:
        raise DomainError(
            CoreErrorCode.IDEMPOTENCY_KEY_REUSED,
            _("This Idempotency-Key was already used with a different request body."),
            status=422,
        )
    return record.response_status, _keys_sorted(record.response_body)


def _keys_sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _keys_sorted(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_keys_sorted(item) for item in value]
    return value


def idempotency_records_purge() -> int:
    deleted, _unused = IdempotencyRecord.objects.filter(created_at__lt=now() - RETENTION).delete()
    return deleted
