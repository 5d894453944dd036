"""The texts people agree to, by purpose and version.

A consent record keeps the version it was given under, so the exact words shown then can be shown
again later. Never edit a published text: add a new version and point CURRENT_VERSIONS at it.
"""

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from forecourt.accounts.models import ConsentPurpose

CONSENT_TEXTS: dict[str, dict[str, Promise]] = {
    ConsentPurpose.ACCOUNT_TERMS: {
        "terms-2026-10": _(
            "I agree to the Forecourt account terms and privacy notice. Forecourt keeps my mobile number "
            "encrypted, uses it to sign me in and to contact me about my orders, bookings and cars, and "
            "never shows it in full to anyone who does not need it. I can see and withdraw my consents "
            "on my account page at any time."
        ),
    },
    ConsentPurpose.MARKETING: {
        "marketing-2026-10": _(
            "Send me news, offers and invitations about the brand's cars and events by text message. "
            "At most four messages a month; I can withdraw on my account page or by replying TD."
        ),
    },
    ConsentPurpose.SHARE_WITH_DEALER: {
        "share-2026-10": _(
            "Share my name and mobile number with the dealer that handles my enquiry, booking or order, "
            "so its staff can contact me about it. The dealer may use them only for that purpose."
        ),
    },
}

CURRENT_VERSIONS: dict[str, str] = {
    ConsentPurpose.ACCOUNT_TERMS: "terms-2026-10",
    ConsentPurpose.MARKETING: "marketing-2026-10",
    ConsentPurpose.SHARE_WITH_DEALER: "share-2026-10",
}


def consent_text(purpose: str, version: str) -> Promise | None:
    """The text shown for `purpose` under `version`, in the active language; None for an unknown version."""
    return CONSENT_TEXTS.get(purpose, {}).get(version)


def consent_current_version(purpose: str) -> str:
    return CURRENT_VERSIONS[purpose]
