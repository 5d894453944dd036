from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "forecourt.orders"
    label = "orders"
    verbose_name = _("Orders")

    def ready(self) -> None:
        # Registers the subscribers that move orders when payments record their events.
        from forecourt.orders import subscribers  # noqa: F401
