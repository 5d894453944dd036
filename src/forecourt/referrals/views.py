"""Broker pages: the link a friend opens (`r/<code>/`), and the broker's own pages — become a broker, the
dashboard (links per model with a copy button, commission totals, recent referrals), every referral with
its stage, and the poster with a QR code to save and share.

A broker sees only their own referrals (every query starts from the signed-in user's broker). Opening a
link records the click and marks the browser for the broker — unless a valid mark is there already: the
first broker wins. A broker opening their own link sees the page as friends do, but it counts nothing.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from forecourt.catalog.models import VehicleModel
from forecourt.core import clock
from forecourt.core.errors import DomainError, RateLimited
from forecourt.core.middleware import current_device, current_ip
from forecourt.core.qrcodes import qr_svg
from forecourt.core.ratelimit import rate_limit_hit
from forecourt.leads.referral_mark import referral_mark_set
from forecourt.leads.selectors import referral_mark_read
from forecourt.referrals.access import broker_page
from forecourt.referrals.models import Broker, BrokerStatus, Stage
from forecourt.referrals.presenters import (
    PROGRESS,
    broker_links,
    landing_path,
    models_on_sale,
    referral_rows,
)
from forecourt.referrals.selectors import (
    TOTAL_STATUSES,
    broker_by_code,
    broker_can_enrol,
    broker_commission_totals,
    broker_for_user,
    broker_referrals,
)
from forecourt.referrals.services import broker_device_seen, broker_enrol, referral_click_record
from forecourt.referrals.services.attribution import attribution_window, within_window

# Clicks recorded per address and broker in CLICK_WINDOW seconds; more are shown the page but not stored.
CLICKS_PER_WINDOW = 30
CLICK_WINDOW = 600
RECENT_REFERRALS = 10
PAGE_SIZE = 30
_QR_SIZE = re.compile(r'^<svg width="[^"]*" height="[^"]*"')


def _model(code: Any) -> VehicleModel | None:
    if not isinstance(code, str) or not code or len(code) > 40:
        return None
    return VehicleModel.objects.filter(code=code, is_active=True).first()


def _has_valid_mark(request: HttpRequest) -> bool:
    mark = referral_mark_read(request)
    if mark is None or broker_by_code(mark.broker_code) is None:
        return False
    return within_window(clicked_at=mark.clicked_at, at=clock.now())


def _click_record(request: HttpRequest, broker: Broker) -> None:
    ip = current_ip() or ""
    try:
        rate_limit_hit(
            "referrals.click", f"{broker.pk}:{ip}", limit=CLICKS_PER_WINDOW, window_seconds=CLICK_WINDOW
        )
    except RateLimited:
        return
    referral_click_record(broker=broker, device=current_device(), ip=ip, landing=request.get_full_path())


@never_cache
@require_GET
def landing(request: HttpRequest, code: str) -> HttpResponse:
    """A broker's link: the broker's invitation to book a test drive or ask about a car."""
    broker = broker_by_code(code)
    if broker is None:
        return render(request, "referrals/landing_missing.html", status=404)
    model = _model(request.GET.get("m"))
    own = request.user.is_authenticated and request.user.pk == broker.user_id
    if own:
        broker_device_seen(broker=broker, device=current_device())
    context = {
        "broker": broker,
        "broker_name": broker.user.display_name or _("A friend"),
        "own": own,
        "model": model,
        "models": models_on_sale(),
        "inquiry_channel": "web_price_inquiry",
    }
    response = render(request, "referrals/landing.html", context)
    if not own:
        _click_record(request, broker)
        if not _has_valid_mark(request):
            referral_mark_set(
                response,
                broker_code=broker.code,
                clicked_at=clock.now(),
                max_age=int(attribution_window().total_seconds()),
            )
    return response


@never_cache
@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """The broker's home: links per model, commission totals, the latest referrals; or how to join."""
    broker = broker_for_user(request.user)
    if broker is None:
        join = {
            "eligible": broker_can_enrol(request.user),
            "attribution_days": settings.REFERRALS_ATTRIBUTION_DAYS,
        }
        return render(request, "referrals/join.html", join)
    broker_device_seen(broker=broker, device=current_device())
    moment = clock.now()
    totals = broker_commission_totals(broker=broker, at=moment)
    referrals = broker_referrals(broker=broker)
    context: dict[str, Any] = {
        "broker": broker,
        "suspended": broker.status == BrokerStatus.SUSPENDED,
        "links": broker_links(broker, request.build_absolute_uri),
        "totals": [(status, totals[status]) for status in TOTAL_STATUSES],
        "rows": referral_rows(referrals[:RECENT_REFERRALS], moment),
        "referral_count": referrals.exclude(stage=Stage.REJECTED).count(),
        "progress": PROGRESS,
        "attribution_days": settings.REFERRALS_ATTRIBUTION_DAYS,
        "return_days": settings.REFERRALS_RETURN_WINDOW_DAYS,
    }
    return render(request, "referrals/dashboard.html", context)


@login_required
@require_POST
def enrol(request: HttpRequest) -> HttpResponse:
    """Become a broker (an owner enrols themself)."""
    try:
        broker_enrol(user=request.user, actor=request.user)  # type: ignore[arg-type]
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Welcome to the broker programme: share your links below."))
    return redirect("referrals:dashboard")


@never_cache
@broker_page
@require_GET
def referrals(request: HttpRequest, broker: Broker) -> HttpResponse:
    """Every referral of the broker with its stage, newest first (optionally of one stage)."""
    stage = request.GET.get("stage", "")
    if stage not in Stage.values:
        stage = ""
    page = Paginator(broker_referrals(broker=broker, stage=stage or None), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "broker": broker,
        "page": page,
        "rows": referral_rows(page.object_list),
        "stage": stage,
        "stages": Stage.choices,
        "progress": PROGRESS,
    }
    return render(request, "referrals/referrals.html", context)


def _poster_context(request: HttpRequest, broker: Broker) -> dict[str, Any]:
    model = _model(request.GET.get("m"))
    url = request.build_absolute_uri(landing_path(broker, model.code if model else ""))
    return {
        "broker": broker,
        "broker_name": broker.user.display_name or _("A friend"),
        "model": model,
        "url": url,
        "qr": qr_svg(url),
        "models": models_on_sale(),
    }


@never_cache
@broker_page
@require_GET
def poster(request: HttpRequest, broker: Broker) -> HttpResponse:
    """The poster: the broker's QR code and invitation, to save and share (e.g. to WeChat Moments)."""
    return render(request, "referrals/poster.html", _poster_context(request, broker))


@never_cache
@broker_page
@require_GET
def poster_image(request: HttpRequest, broker: Broker) -> HttpResponse:
    """The poster as one SVG image to download and share."""
    context = _poster_context(request, broker)
    # The QR code drawn inside the poster: its own size replaced by a place on the poster.
    context["qr"] = _QR_SIZE.sub('<svg x="90" y="300" width="420" height="420"', context["qr"], count=1)
    response = render(request, "referrals/poster.svg", context, content_type="image/svg+xml; charset=utf-8")
    suffix = f"-{context['model'].code}" if context["model"] else ""
    response["Content-Disposition"] = f'attachment; filename="forecourt-{broker.code}{suffix}.svg"'
    return response
