"""Consumer pages: model page, configurator (live price through htmx), saved quote, comparison."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import BadRequest
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from forecourt.catalog import selectors, services
from forecourt.catalog.configurator import (
    CHOICE_GROUPS,
    OptionEntry,
    Quote,
    RuleBreak,
    TrimSnapshot,
    default_choices,
    quote,
)
from forecourt.catalog.models import Trim
from forecourt.catalog.snapshots import catalog_memo
from forecourt.core.errors import DomainError
from forecourt.core.pagecache import anonymous_page_cache

GROUP_TITLES = {
    "paint": gettext_lazy("Paint"),
    "interior": gettext_lazy("Interior"),
    "wheels": gettext_lazy("Wheels"),
    "package": gettext_lazy("Packages"),
    "option": gettext_lazy("Options"),
}
MAX_CHOICES = 60
MAX_CODE_LENGTH = 40


@dataclass(frozen=True)
class Choice:
    entry: OptionEntry
    is_checked: bool
    # Rule breaks naming this choice, and the package that fits it at no cost (if any).
    errors: tuple[RuleBreak, ...]
    included_in: str
    # Names of what a package includes.
    includes: tuple[str, ...] = ()

    @property
    def is_standard(self) -> bool:
        return self.entry.availability == "standard"


@dataclass(frozen=True)
class ChoiceGroup:
    kind: str
    title: str
    is_single: bool
    choices: tuple[Choice, ...]
    errors: tuple[RuleBreak, ...]


def _snapshot_or_404(trim_code: str) -> TrimSnapshot:
    try:
        return selectors.trim_snapshot_for(trim_code)
    except DomainError as error:
        raise Http404(error.message) from error


def _trim_or_404(trim_code: str) -> Trim:
    try:
        return selectors.trim_get(trim_code)
    except DomainError as error:
        raise Http404(error.message) from error


def _groups(snapshot: TrimSnapshot, chosen: set[str], result: Quote) -> list[ChoiceGroup]:
    included = {line.code: line.package for line in result.lines if line.basis == "included"}
    groups = []
    for kind in (*CHOICE_GROUPS, "package", "option"):
        entries = [entry for entry in snapshot.options if entry.kind == kind and entry.is_offered]
        if not entries:
            continue
        choices = tuple(
            Choice(
                entry=entry,
                is_checked=entry.code in chosen,
                # "Choose one" is said once for the whole group, not next to every paint.
                errors=tuple(error for error in result.errors_for(entry.code) if error.code != "choose_one"),
                included_in=snapshot.option_name(included[entry.code]) if entry.code in included else "",
                includes=tuple(snapshot.option_name(code) for code in entry.includes),
            )
            for entry in entries
        )
        group_errors = tuple(
            error
            for error in result.errors
            if error.code == "choose_one" and error.options and error.options[0] in {e.code for e in entries}
        )
        groups.append(
            ChoiceGroup(kind, str(GROUP_TITLES[kind]), kind in CHOICE_GROUPS, choices, group_errors)
        )
    return groups


def _chosen(values: list[str]) -> list[str]:
    # The page never sends this much; refusing beats quietly dropping or trimming a choice.
    if len(values) > MAX_CHOICES or any(len(value) > MAX_CODE_LENGTH for value in values):
        raise BadRequest("too many or too long option codes")
    return values


def _configurator_context(snapshot: TrimSnapshot, chosen: list[str], result: Quote) -> dict[str, Any]:
    trim = _trim_or_404(snapshot.trim_code)
    return {
        "trim": trim,
        "model": trim.model,
        "groups": _groups(snapshot, set(chosen), result),
        "quote": result,
    }


@require_GET
@anonymous_page_cache
def model_detail(request: HttpRequest, code: str) -> HttpResponse:
    try:
        detail = selectors.model_detail(code)
    except DomainError as error:
        raise Http404(error.message) from error
    # The page body holds nothing personal, so it is rendered once per model, language and price list.
    body = catalog_memo(("model-page", code, get_language()), lambda: _model_body(detail))
    context = {"model": detail.model, "body": body, "page_includes": settings.MODEL_PAGE_INCLUDES}
    return render(request, "catalog/model_detail.html", context)


def _model_body(detail: selectors.ModelDetail) -> str:
    trims = [{"offer": offer, "specs": spec_values(offer.trim)} for offer in detail.trims]
    compare_url = (
        reverse("catalog:compare") + "?trims=" + ",".join(offer.trim.code for offer in detail.trims[:3])
    )
    context = {"detail": detail, "model": detail.model, "trims": trims, "compare_url": compare_url}
    return mark_safe(render_to_string("catalog/_model_body.html", context))


@require_GET
def configure(request: HttpRequest, trim_code: str) -> HttpResponse:
    snapshot = _snapshot_or_404(trim_code)
    chosen = _chosen(request.GET.getlist("options")) or default_choices(snapshot)
    context = _configurator_context(snapshot, chosen, quote(snapshot, chosen))
    return render(request, "catalog/configure.html", context)


@require_POST
def configure_summary(request: HttpRequest, trim_code: str) -> HttpResponse:
    """The htmx partial: lines, total and every broken rule for the posted choices."""
    snapshot = _snapshot_or_404(trim_code)
    chosen = _chosen(request.POST.getlist("options"))
    context = _configurator_context(snapshot, chosen, quote(snapshot, chosen))
    return render(request, "catalog/_summary.html", {**context, "swap_oob": True})


@require_POST
def configure_save(request: HttpRequest, trim_code: str) -> HttpResponse:
    chosen = _chosen(request.POST.getlist("options"))
    owner = request.user if request.user.is_authenticated else None
    try:
        configuration = services.configuration_save(trim_code=trim_code, option_codes=chosen, owner=owner)
    except DomainError as error:
        if error.status == 404:
            raise Http404(error.message) from error
        snapshot = _snapshot_or_404(trim_code)
        context = _configurator_context(snapshot, chosen, quote(snapshot, chosen))
        context.update(swap_oob=True, save_error=error.message)
        if request.headers.get("HX-Request"):
            # htmx only swaps 2xx answers; the summary explains what to fix.
            return render(request, "catalog/_summary.html", context)
        return render(request, "catalog/configure.html", context, status=422)
    url = reverse("catalog:configuration-detail", args=[configuration.share_code])
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


@require_GET
def configuration_detail(request: HttpRequest, share_code: str) -> HttpResponse:
    try:
        view = selectors.configuration_view(share_code=share_code)
    except DomainError as error:
        raise Http404(error.message) from error
    share_url = request.build_absolute_uri(
        reverse("catalog:configuration-detail", args=[view.configuration.share_code])
    )
    edit_url = reverse("catalog:configure", args=[view.configuration.trim.code])
    query = "&".join(f"options={code}" for code in view.configuration.option_codes)
    return render(
        request,
        "catalog/configuration_detail.html",
        {
            "view": view,
            "configuration": view.configuration,
            "trim": view.configuration.trim,
            "share_url": share_url,
            "edit_url": f"{edit_url}?{query}" if query else edit_url,
            "page_includes": settings.CONFIGURATION_PAGE_INCLUDES,
        },
    )


SPEC_ROWS = [
    ("price", gettext_lazy("Price")),
    ("range_km", gettext_lazy("Range (CLTC)")),
    ("fuel", gettext_lazy("Fuel use")),
    ("power_kw", gettext_lazy("Power")),
    ("torque_nm", gettext_lazy("Torque")),
    ("acceleration", gettext_lazy("0–100 km/h")),
    ("drive", gettext_lazy("Drive")),
    ("seats", gettext_lazy("Seats")),
    ("size", gettext_lazy("Length × width × height")),
    ("wheelbase_mm", gettext_lazy("Wheelbase")),
]


def spec_values(trim: Trim) -> dict[str, str]:
    """Specs formatted for people, in the active language."""
    dash = "—"
    fuel = trim.fuel_l_per_100km_tenths
    return {
        "range_km": _("%(km)s km") % {"km": trim.range_km} if trim.range_km else dash,
        "fuel": _("%(litres)s L/100 km") % {"litres": f"{fuel / 10:.1f}"} if fuel else dash,
        "power_kw": _("%(kw)s kW") % {"kw": trim.power_kw},
        "torque_nm": _("%(nm)s N·m") % {"nm": trim.torque_nm},
        "acceleration": _("%(seconds)s s") % {"seconds": f"{trim.acceleration_0_100_tenths / 10:.1f}"},
        "drive": str(trim.get_drive_display()),
        "seats": str(trim.seats),
        "size": f"{trim.length_mm} × {trim.width_mm} × {trim.height_mm} mm",
        "wheelbase_mm": f"{trim.wheelbase_mm} mm",
    }


def _requested_trims(request: HttpRequest) -> list[str]:
    codes: list[str] = []
    for value in request.GET.getlist("trims"):
        codes.extend(code.strip() for code in value.split(",") if code.strip())
    return list(dict.fromkeys(codes))[: selectors.MAX_COMPARED_TRIMS + 1]


@require_GET
def compare(request: HttpRequest) -> HttpResponse:
    codes = _requested_trims(request)
    columns: list[dict[str, Any]] = []
    error = ""
    if len(codes) >= 2:
        try:
            offers = selectors.trims_compare(codes)
        except DomainError as problem:
            if problem.status == 404:
                raise Http404(problem.message) from problem
            error = problem.message
        else:
            for offer in offers:
                values = spec_values(offer.trim)
                values["price"] = str(offer.price) if offer.price else "—"
                columns.append({"trim": offer.trim, "values": values})
    elif codes:
        error = _("Choose two or three different trims to compare.")
    rows = [(key, label, [column["values"][key] for column in columns]) for key, label in SPEC_ROWS]
    pickers = [codes[index] if index < len(codes) else "" for index in range(selectors.MAX_COMPARED_TRIMS)]
    return render(
        request,
        "catalog/compare.html",
        {
            "columns": columns,
            "rows": rows,
            "pickers": pickers,
            "trims": selectors.trims_for_picker(),
            "error": error,
        },
    )
