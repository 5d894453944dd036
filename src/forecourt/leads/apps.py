from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    name = "forecourt.leads"
    label = "leads"
    verbose_name = _("Leads")

    def ready(self) -> None:
        # Registers the subscribers that move the pipeline when appointments record their events.
        from forecourt.leads import subscribers  # noqa: F401
