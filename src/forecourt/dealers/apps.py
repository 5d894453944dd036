from django.apps import AppConfig


class DealersConfig(AppConfig):
    name = "forecourt.dealers"
    label = "dealers"
    verbose_name = "Dealers"
