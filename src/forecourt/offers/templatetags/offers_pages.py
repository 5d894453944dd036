"""Template helpers for the slots offers fills on other apps' pages (see *_PAGE_INCLUDES in settings)."""

from __future__ import annotations

from typing import Any

from django import template

from forecourt.offers import selectors
from forecourt.offers.presenters import campaign_headline

register = template.Library()

TEASER_CAMPAIGNS = 3


@register.simple_tag
def campaigns_for_teaser() -> list[dict[str, Any]]:
    """A few running campaigns for the home page's teaser: those closing soonest first."""
    running = selectors.campaigns_running().select_related("merchant").order_by("ends_at", "pk")
    return [
        {"campaign": campaign, "headline": campaign_headline(campaign)}
        for campaign in running[:TEASER_CAMPAIGNS]
    ]
