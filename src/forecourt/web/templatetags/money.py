"""Money in templates: `{{ amount_fen|yuan }}` and `{{ money|money }}`, formatted for the active language."""

from typing import Any

from django import template
from django.utils.translation import get_language

from forecourt.core.money import Money

register = template.Library()


def _as_fen(value: Any) -> int | None:
    # Templates must never fail on a price: anything that is not a whole number of fen renders empty.
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


@register.filter(name="yuan")
def yuan(amount_fen: Any) -> str:
    """Format an integer amount of fen as yuan, e.g. 26880000 → ¥268,800."""
    fen = _as_fen(amount_fen)
    if fen is None:
        return ""
    return Money(fen, "CNY").format(get_language() or "zh-hans")


@register.filter(name="money")
def money(value: Any) -> str:
    """Format a Money (or an API-style {"amount", "currency"} dict) for the active language."""
    if isinstance(value, dict):
        fen = _as_fen(value.get("amount"))
        currency = value.get("currency", "CNY")
        try:
            value = Money(fen, currency) if fen is not None else None
        except (TypeError, ValueError):
            value = None
    if not isinstance(value, Money):
        return ""
    return value.format(get_language() or "zh-hans")
