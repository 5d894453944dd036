"""Who may see and do what in the broker programme.

A broker sees only their own referrals, commissions, tasks' results and statements: every broker page
(`broker_page`) and API call (`api_broker`) starts from the signed-in user's own broker record, so another
broker's id is simply not found. The ops pages (`ops_page`) answer anyone else 404, exactly like an address
that does not exist; the services check the role again (`ensure_ops`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from forecourt.accounts.auth import is_ops as is_ops  # one definition, used here by name
from forecourt.accounts.auth import request_user
from forecourt.core.errors import CoreErrorCode, DomainError
from forecourt.core.middleware import current_device
from forecourt.referrals.errors import ReferralErrorCode
from forecourt.referrals.models import Broker
from forecourt.referrals.selectors import broker_can_enrol, broker_for_user


def ensure_ops(actor: Any) -> None:
    """401 for nobody signed in, 403 for anyone but OEM operations."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise DomainError(CoreErrorCode.NOT_AUTHENTICATED, _("Sign in first."), status=401)
    if not is_ops(actor):
        raise DomainError(CoreErrorCode.FORBIDDEN, _("Only operations staff may do this."), status=403)


def ops_page(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """An ops page: visitors go to the sign-in page, anyone else signed in gets 404 (these pages are not
    advertised)."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not is_ops(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def api_broker(request: HttpRequest) -> Broker:
    """The signed-in user's broker record; 404 `not_a_broker` (saying whether they may enrol) otherwise."""
    user = request_user(request)
    broker = broker_for_user(user)
    if broker is None:
        raise DomainError(
            ReferralErrorCode.NOT_A_BROKER,
            _("You are not a broker yet."),
            status=404,
            details={"eligible": broker_can_enrol(user)},
        )
    return broker


BrokerView = Callable[..., HttpResponseBase]


def broker_page(view: BrokerView) -> Callable[..., HttpResponseBase]:
    """A broker's own page: the view is called with the signed-in user's broker after the request.

    Visitors go to the sign-in page, someone who is not a broker to the broker home (which explains how
    to join). The device is remembered as the broker's: a "friend" arriving from it is a self-referral.
    """

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        # Imported here: the services import this module (ensure_ops), so it cannot import them first.
        from forecourt.referrals.services import broker_device_seen

        broker = broker_for_user(request.user)
        if broker is None:
            response: HttpResponse = redirect("referrals:dashboard")
            return response
        broker_device_seen(broker=broker, device=current_device())
        return view(request, broker, *args, **kwargs)

    return wrapper
