"""Checks on what callers hand the payment services; each failure is a 422 naming the field."""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext as _

from forecourt.core.errors import CoreErrorCode, DomainError
from forecourt.core.money import Money

# Alipay's limit for one trade; far above any car, so a bigger number is a bug, not a sale.
MAX_AMOUNT_FEN = 100_000_000 * 100
_PURPOSE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*")


def invalid(field: str, message: str) -> DomainError:
    return DomainError(
        CoreErrorCode.INVALID,
        _("The request is not valid."),
        status=422,
        details=[{"field": field, "message": message}],
    )


def idempotency_key_parse(key: Any) -> str:
    if not isinstance(key, str) or not key.strip() or len(key) > 200:
        raise invalid("idempotency_key", _("An idempotency key of 1–200 characters is required."))
    return key


def amount_parse(amount: Any, *, field: str = "amount") -> Money:
    if not isinstance(amount, Money):
        raise invalid(field, _("The amount must be a Money value."))
    if amount.currency != "CNY":
        raise invalid(field, _("Only CNY can be paid."))
    if amount.amount <= 0:
        raise invalid(field, _("The amount must be more than zero."))
    if amount.amount > MAX_AMOUNT_FEN:
        raise invalid(field, _("The amount is too large."))
    return amount


def text_parse(value: Any, *, field: str, max_length: int, required: bool = True) -> str:
    cleaned = " ".join(str(value or "").split()) if isinstance(value, str) or value is None else None
    if cleaned is None:
        raise invalid(field, _("Must be text."))
    if required and not cleaned:
        raise invalid(field, _("This field is required."))
    if len(cleaned) > max_length:
        raise invalid(field, _("At most %(count)s characters.") % {"count": max_length})
    return cleaned


def purpose_parse(purpose: Any) -> str:
    cleaned = text_parse(purpose, field="purpose", max_length=40)
    if not _PURPOSE.fullmatch(cleaned):
        raise invalid("purpose", _('Use lower-case words joined by dots, e.g. "order.deposit".'))
    return cleaned


def reused_key() -> DomainError:
    return DomainError(
        CoreErrorCode.IDEMPOTENCY_KEY_REUSED,
        _("This idempotency key was already used with different details."),
        status=422,
    )
