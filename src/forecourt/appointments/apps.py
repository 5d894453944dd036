from django.apps import AppConfig


class AppointmentsConfig(AppConfig):
    name = "forecourt.appointments"
    label = "appointments"
    verbose_name = "Appointments"
