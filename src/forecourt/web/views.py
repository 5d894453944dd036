"""The site's own pages: home, the health check and the error pages."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext as _

from forecourt.catalog.selectors import models_for_home, trims_for_picker
from forecourt.core.errors import CoreErrorCode
from forecourt.core.pagecache import anonymous_page_cache


def _entry_trims() -> dict[str, str]:
    """Each model's first trim on sale: where the home page's "Configure" button starts."""
    entry: dict[str, str] = {}
    for trim in trims_for_picker():
        entry.setdefault(trim.model.code, trim.code)
    return entry


@anonymous_page_cache
def home(request: HttpRequest) -> HttpResponse:
    cards = models_for_home()
    entry = _entry_trims()
    models = [(card, entry.get(card.code)) for card in cards]
    return render(request, "web/home.html", {"models": models, "page_includes": settings.HOME_PAGE_INCLUDES})


def healthz(request: HttpRequest) -> JsonResponse:
    """The minimal endpoint benchmarks compare against: no database, no template."""
    return JsonResponse({"ok": True})


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(
            {"code": CoreErrorCode.NOT_FOUND.value, "message": _("Not found."), "details": None}, status=404
        )
    return render(request, "web/404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(
            {"code": "server_error", "message": _("Something went wrong."), "details": None}, status=500
        )
    # No request context: the failure may be in the database or a context processor the layout needs.
    return HttpResponseServerError(loader.get_template("web/500.html").render())
