"""Forecourt's template helpers in one library: `{% load forecourt %}` gives the money filters and URLs."""

from typing import Any

from django import template
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template.loader import get_template
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

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


# Rendered fixed fragments by (template, part, language, demo mode, URLconf, script prefix).
_fragments: dict[tuple[Any, ...], SafeString] = {}


@receiver(setting_changed)
def _forget_fragments(*, setting: str, **kwargs: Any) -> None:
    if setting in {"LANGUAGES", "LOCALE_PATHS", "ROOT_URLCONF", "STATIC_URL", "STORAGES", "DEMO_MODE"}:
        _fragments.clear()


@register.simple_tag
def cached_include(template_name: str, **parameters: str) -> SafeString:
    """Render a fixed fragment once per language (and demo mode) and reuse it on every page.

    For the layout's parts that depend on nothing about the visitor or the request (brand, asset
    links, footer text): it saves most of what translating and rendering them would cost each time.
    """
    key = (
        template_name,
        tuple(sorted(parameters.items())),
        get_language(),
        settings.DEMO_MODE,
        get_urlconf(),
        get_script_prefix(),
    )
    fragment = _fragments.get(key)
    if fragment is None:
        context = {**parameters, "demo_mode": settings.DEMO_MODE}
        # A template's output is already escaped: marking it safe only tells the type checker so.
        fragment = _fragments[key] = mark_safe(get_template(template_name).render(context))
    return fragment
