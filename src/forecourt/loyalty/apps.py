from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoyaltyConfig(AppConfig):
    name = "forecourt.loyalty"
    label = "loyalty"
    verbose_name = _("Member club")

    def ready(self) -> None:
        # Registers the subscribers that earn and reverse points from other apps' events, and those that
        # settle a reward's cash part when payments report it.
        from forecourt.loyalty import payment_subscribers, subscribers  # noqa: F401
