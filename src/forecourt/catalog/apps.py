from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "forecourt.catalog"
    label = "catalog"
    verbose_name = "Catalog"
