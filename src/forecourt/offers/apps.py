from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OffersConfig(AppConfig):
    name = "forecourt.offers"
    label = "offers"
    verbose_name = _("Offers")

    def ready(self) -> None:
        # Registers the subscribers: vouchers settle when orders and payments record their events.
        from forecourt.offers import order_subscribers, payment_subscribers  # noqa: F401
