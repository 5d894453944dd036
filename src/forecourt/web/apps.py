from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "forecourt.web"
    label = "web"
    verbose_name = "Web"
