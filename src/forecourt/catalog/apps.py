from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "forecourt.catalog"
    label = "catalog"
    verbose_name = _("Catalogue")

    def ready(self) -> None:
        from forecourt.catalog.snapshots import connect_cache_invalidation

        connect_cache_invalidation()
