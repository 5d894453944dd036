from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReferralsConfig(AppConfig):
    name = "forecourt.referrals"
    label = "referrals"
    verbose_name = _("Broker programme")

    def ready(self) -> None:
        # Registers the event subscribers: attribution and stages (referrals), task results (programme).
        from forecourt.referrals import subscribers, task_subscribers  # noqa: F401
