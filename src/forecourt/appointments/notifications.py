"""Text messages about an appointment: confirmation, reminder, new time, cancellation.

Texts are composed inside the service's transaction (in the language the person booked in) and
handed to the SMS sender only after commit, so a rolled-back booking never sends a message.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from forecourt.accounts.services import sms_send
from forecourt.appointments.models import Appointment, AppointmentKind
from forecourt.core import clock
from forecourt.core.logging import log_context
from forecourt.core.phones import decrypt_phone

logger = logging.getLogger(__name__)


def _when(moment: datetime) -> str:
    local = moment.astimezone(clock.SHANGHAI)
    return local.strftime("%Y-%m-%d %H:%M")


def _what(kind: str) -> str:
    return str(AppointmentKind(kind).label)


def _compose(appointment: Appointment, purpose: str) -> str:
    with translation.override(appointment.language or "zh-hans"):
        values = {
            "what": _what(appointment.kind),
            "dealer": appointment.dealer.name,
            "when": _when(appointment.slot.start),
            "code": appointment.code,
        }
        if purpose == "appointment_confirmation":
            text = _(
                "Your %(what)s at %(dealer)s is booked for %(when)s. "
                "Show the QR code or tell the staff your code %(code)s when you arrive."
            )
        elif purpose == "appointment_reminder":
            text = _("Reminder: your %(what)s at %(dealer)s is at %(when)s. Your check-in code is %(code)s.")
        elif purpose == "appointment_rescheduled":
            text = _(
                "Your %(what)s at %(dealer)s has moved to %(when)s. Your check-in code is still %(code)s."
            )
        else:
            text = _("Your %(what)s at %(dealer)s on %(when)s has been cancelled.")
        return "【Forecourt】" + text % values


def _person_phone(appointment: Appointment) -> str | None:
    encrypted = appointment.person.phone_encrypted
    return decrypt_phone(encrypted) if encrypted else None


def sms_after_commit(*, appointment: Appointment, purpose: str, phone_e164: str | None = None) -> None:
    """Compose now, send once the caller's transaction commits (never for a rolled-back change)."""
    phone = phone_e164 or _person_phone(appointment)
    if phone is None:
        return
    text = _compose(appointment, purpose)
    public_id = appointment.public_id

    def send() -> None:
        try:
            sms_send(phone=phone, text=text, purpose=purpose)
        except Exception:
            # The booking stands; a lost confirmation is logged (never the number) for follow-up.
            logger.exception(
                "appointment sms not sent", extra=log_context(appointment=public_id, purpose=purpose)
            )

    transaction.on_commit(send)
