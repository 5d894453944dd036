"""Template helpers for the lead inquiry form, so `leads/_inquiry_form.html` can be included anywhere."""

from django import template
from django.db.models import QuerySet
from django.utils.functional import Promise

from forecourt.accounts.consent_texts import consent_current_version, consent_text
from forecourt.accounts.models import ConsentPurpose
from forecourt.dealers.models import City
from forecourt.leads.presenters import source_site_label as _source_site_label

register = template.Library()

UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")


@register.simple_tag
def inquiry_cities() -> QuerySet[City]:
    """The cities a person can pick, by province then city."""
    return City.objects.order_by("province_en", "province", "name_en", "code")


@register.simple_tag
def share_with_dealer_consent() -> dict[str, str | Promise | None]:
    """The consent text (and its version) shown beside the "share with a dealer" box."""
    version = consent_current_version(ConsentPurpose.SHARE_WITH_DEALER)
    return {"version": version, "text": consent_text(ConsentPurpose.SHARE_WITH_DEALER, version)}


@register.simple_tag(takes_context=True)
def inquiry_utm(context: template.Context) -> dict[str, str]:
    """UTM parameters of the page the form is on, carried with the inquiry for attribution."""
    request = context.get("request")
    query = request.GET if request is not None else {}
    return {key: str(query.get(key, ""))[:200] for key in UTM_KEYS if query.get(key)}


@register.filter
def source_site_label(code: str | None) -> str:
    """`{{ lead.first_source_site|source_site_label }}`: 汽车之家 rather than `autohome`."""
    return _source_site_label(code or "")
