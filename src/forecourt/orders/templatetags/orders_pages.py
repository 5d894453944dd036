"""Template helpers for the slots orders fills on other apps' pages (see *_PAGE_INCLUDES in settings)."""

from __future__ import annotations

from typing import Any

from django import template

from forecourt.orders import selectors
from forecourt.orders.models import BEFORE_LOCK, Order
from forecourt.orders.selectors import EditionOffer

register = template.Library()

TEASER_EDITIONS = 2


@register.simple_tag(takes_context=True)
def orders_to_change(context: template.Context, configuration: Any) -> list[Order]:
    """The visitor's own orders of the same model that may still take this configuration."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if configuration is None or not getattr(user, "is_authenticated", False):
        return []
    candidates = (
        selectors.orders_for_buyer(buyer=user)
        .filter(status__in=BEFORE_LOCK, edition__isnull=True, trim__model_id=configuration.trim.model_id)
        .exclude(configuration_id=configuration.pk)[:3]
    )
    return [order for order in candidates if order.can_change_configuration()]


@register.simple_tag
def editions_for_teaser() -> list[EditionOffer]:
    """Limited editions on sale now, for the home page's teaser."""
    return selectors.editions_on_sale()[:TEASER_EDITIONS]
