"""The broker link a friend opens, and the broker's own pages (mounted at the site root)."""

from django.urls import path

from forecourt.referrals import views

app_name = "referrals"

urlpatterns = [
    path("r/<str:code>/", views.landing, name="landing"),
    path("broker/", views.dashboard, name="dashboard"),
    path("broker/enrol/", views.enrol, name="enrol"),
    path("broker/referrals/", views.referrals, name="referrals"),
    path("broker/poster/", views.poster, name="poster"),
    path("broker/poster.svg", views.poster_image, name="poster-svg"),
]
