"""The dealer finder: pick a city or share your position, filter by service, see the nearest stores."""

from __future__ import annotations

from itertools import groupby
from typing import Any
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from forecourt.core.errors import NotFound
from forecourt.dealers.forms import NearestDealerForm
from forecourt.dealers.models import City, Service
from forecourt.dealers.selectors import cities_all, dealer_get, dealer_nearest

# When a chosen city has no store offering the service, show this many of the nearest elsewhere.
_ELSEWHERE_LIMIT = 3
_SEARCH_FIELDS = ("lat", "lng", "city", "service", "limit")


def _search_context(request: HttpRequest) -> dict[str, Any]:
    """Parse the search from the query string and run it; an empty query is the "choose a city" prompt."""
    query = {key: request.GET[key] for key in _SEARCH_FIELDS if request.GET.get(key)}
    context: dict[str, Any] = {
        "searched": False,
        "results": [],
        "errors": [],
        "elsewhere": [],
        "city": None,
        "query": query,
    }
    if not query.keys() & {"lat", "lng", "city"}:
        return context
    form = NearestDealerForm(data=query)
    if not form.is_valid():
        context["errors"] = [message for messages in form.errors.values() for message in messages]
        return context
    city: City | None = form.cleaned_data["city"]
    results = form.search()
    context.update(
        searched=True, results=results, city=city, from_position=form.cleaned_data["lat"] is not None
    )
    if city is not None and not results:
        context["elsewhere"] = dealer_nearest(
            latitude=city.latitude,
            longitude=city.longitude,
            service=form.cleaned_data["service"],
            limit=_ELSEWHERE_LIMIT,
        )
    return context


@require_GET
def finder(request: HttpRequest) -> HttpResponse:
    """The finder page; it also renders results itself, so it works without JavaScript."""
    context = _search_context(request)
    cities = cities_all()
    context["provinces"] = [
        (province, list(group)) for province, group in groupby(cities, key=lambda city: city.display_province)
    ]
    context["services"] = Service.choices
    context["selected_city"] = context["query"].get("city", "")
    context["selected_service"] = context["query"].get("service", "")
    return render(request, "dealers/finder.html", context)


@require_GET
def finder_results(request: HttpRequest) -> HttpResponse:
    """The results list alone, swapped into the finder page by HTMX."""
    response = render(request, "dealers/_results.html", _search_context(request))
    if request.headers.get("HX-Request"):
        # Keep the address bar on the finder page with this search, so reload and share work.
        query = {key: request.GET[key] for key in _SEARCH_FIELDS if request.GET.get(key)}
        finder_url = reverse("dealers:finder")
        response["HX-Push-Url"] = f"{finder_url}?{urlencode(query)}" if query else finder_url
    return response


@require_GET
def dealer_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    try:
        dealer = dealer_get(public_id=public_id)
    except NotFound as error:
        raise Http404(error.message) from error
    return render(request, "dealers/dealer_detail.html", {"dealer": dealer})
