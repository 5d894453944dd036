"""Becoming a broker: any owner enrols themself; OEM operations enrol professional brokers.

A broker's devices are remembered while they use their pages signed in, so a "friend" who turns out to
be the broker's own phone is caught as a self-referral.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from forecourt.accounts.models import DEALER_ROLES, Role, User
from forecourt.core import clock
from forecourt.core.audit import audit_record
from forecourt.core.errors import CoreErrorCode, DomainError, field_error
from forecourt.core.events import event_record
from forecourt.dealers.models import City
from forecourt.orders.models import OrderStatus
from forecourt.orders.selectors import orders_for_buyer
from forecourt.referrals.access import is_ops
from forecourt.referrals.errors import ReferralErrorCode
from forecourt.referrals.models import Broker, BrokerDevice, BrokerKind
from forecourt.referrals.selectors import broker_can_enrol

_DEVICE = re.compile(r"^[A-Za-z0-9_-]{16,40}$")


def _not_eligible(message: str) -> DomainError:
    return DomainError(ReferralErrorCode.NOT_ELIGIBLE, message, status=403)


def _owner_city(user: User) -> City | None:
    order = (
        orders_for_buyer(buyer=user)
        .filter(status=OrderStatus.DELIVERED)
        .order_by("-delivered_at", "-id")
        .select_related("city")
        .first()
    )
    return order.city if order is not None else None


def _enrolled_recorded(broker: Broker, *, actor: Any) -> None:
    """`broker.enrolled`, and an audit row when ops (`actor`) enrolled someone."""
    user = broker.user
    event_record(
        "broker.enrolled",
        subject_type="broker",
        subject_id=user.public_id,
        actor=actor or user,
        payload={
            "broker": user.public_id,
            "broker_code": broker.code,
            "kind": broker.kind,
            "city": broker.city.code if broker.city else None,
        },
    )
    if actor is not None:
        audit_record(
            actor=actor,
            action="referrals.broker_enrolled",
            object_type="user",
            object_id=user.public_id,
            details={"kind": broker.kind, "code": broker.code},
        )


def broker_enrol(
    *, user: User, actor: Any = None, kind: str = BrokerKind.OWNER, city: City | None = None
) -> Broker:
    """Make `user` a broker, once (a second call returns the broker as it is).

    An owner (a consumer with a delivered car) may enrol themself (`actor` None or the user); OEM
    operations enrol anyone but staff, as an owner or a professional broker. Others get 403 `not_eligible`.
    """
    if kind not in BrokerKind.values:
        raise field_error(ReferralErrorCode.INVALID, "kind", _("Choose an owner or a professional broker."))
    by_ops = is_ops(actor)
    if actor is not None and getattr(actor, "pk", None) not in (None, user.pk) and not by_ops:
        raise DomainError(
            CoreErrorCode.FORBIDDEN, _("Only OEM operations enrol other people as brokers."), status=403
        )
    if user.role in DEALER_ROLES or user.role in (Role.OPS, Role.PARTNER) or not user.is_active:
        raise _not_eligible(_("Staff and partner accounts cannot be brokers."))
    existing = Broker.objects.filter(user=user).first()
    if existing is not None:
        return existing
    if kind == BrokerKind.PROFESSIONAL and not by_ops:
        raise _not_eligible(_("Professional brokers are enrolled by OEM operations."))
    if kind == BrokerKind.OWNER and not broker_can_enrol(user):
        raise _not_eligible(_("Brokers are owners: once your car is delivered you can join."))
    moment = clock.now()
    try:
        with transaction.atomic():
            broker = Broker.objects.create(
                user=user,
                kind=kind,
                city=city or _owner_city(user),
                enrolled_at=moment,
                enrolled_by=actor if by_ops else user,
            )
            _enrolled_recorded(broker, actor=actor if by_ops else None)
    except IntegrityError:
        # Enrolled twice at once (a double click): the first row stands.
        existing = Broker.objects.filter(user=user).first()
        if existing is None:
            raise
        return existing
    return broker


def broker_device_seen(*, broker: Broker, device: str | None, at: datetime | None = None) -> None:
    """Remember a device the broker uses while signed in (a referral from it is a self-referral)."""
    if not device or not _DEVICE.match(device):
        return
    moment = at or clock.now()
    if BrokerDevice.objects.filter(broker=broker, device=device).update(last_seen_at=moment):
        return
    try:
        with transaction.atomic():
            BrokerDevice.objects.create(
                broker=broker, device=device, first_seen_at=moment, last_seen_at=moment
            )
    except IntegrityError:
        BrokerDevice.objects.filter(broker=broker, device=device).update(last_seen_at=moment)
