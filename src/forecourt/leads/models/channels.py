"""Where an inquiry came from."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    WEB_PRICE_INQUIRY = "web_price_inquiry", _("Price inquiry (web)")
    WEB_TEST_DRIVE = "web_test_drive", _("Test-drive request (web)")
    WEB_QUESTION = "web_question", _("Question (web)")
    LIVE_STREAM = "live_stream", _("Live-stream sign-up")
    BROKER_LINK = "broker_link", _("Broker referral link")
    PARTNER_IMPORT = "partner_import", _("Partner import")
    WALK_IN = "walk_in", _("Walk-in")
    PHONE_CALL = "phone_call", _("Phone call")
    TEST_DRIVE_BOOKING = "test_drive_booking", _("Test-drive booking")
    VISIT_BOOKING = "visit_booking", _("Store-visit booking")


# Channels a consumer may name through the public API; the others are entered by staff, partners
# or the appointments app.
PUBLIC_CHANNELS: frozenset[str] = frozenset(
    {
        Channel.WEB_PRICE_INQUIRY,
        Channel.WEB_TEST_DRIVE,
        Channel.WEB_QUESTION,
        Channel.LIVE_STREAM,
        Channel.BROKER_LINK,
    }
)
STAFF_CHANNELS: frozenset[str] = frozenset({Channel.WALK_IN, Channel.PHONE_CALL})
