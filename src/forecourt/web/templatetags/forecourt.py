"""Forecourt's template helpers in one library: `{% load forecourt %}` gives the money filters and URLs."""

from typing import Any

from django import template
from django.urls import NoReverseMatch, reverse

from forecourt.web.templatetags import money as money_filters

register = template.Library()
register.filter("yuan", money_filters.yuan)
register.filter("money", money_filters.money)


@register.simple_tag
def optional_url(name: str, *args: Any) -> str:
    """`{% optional_url "app:name" arg as url %}`: the URL, or "" when the name is not (yet) routed."""
    try:
        return reverse(name, args=[arg for arg in args if arg is not None])
    except NoReverseMatch:
        return ""
