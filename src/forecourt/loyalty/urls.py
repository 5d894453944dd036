"""The member club pages, mounted at /club/ (the rewards catalogue is under /club/rewards/)."""

from django.urls import path

from forecourt.loyalty import views

app_name = "loyalty"
urlpatterns = [
    path("", views.home, name="home"),
    path("points/", views.points, name="points"),
    path("points/summary/", views.summary_block, name="summary"),
    path("check-in/", views.check_in, name="check-in"),
    path("card/", views.card, name="card"),
    path("card/qr/", views.card_qr, name="card-qr"),
    path("tiers/", views.tiers, name="tiers"),
]
