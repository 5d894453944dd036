"""Subsidy pages, mounted at /subsidies/: consumers apply and follow their applications; ops review."""

from django.urls import path

from forecourt.offers import subsidy_views as views

app_name = "subsidies"
urlpatterns = [
    path("", views.programmes, name="programmes"),
    path("mine/", views.mine, name="mine"),
    path("mine/<str:application_id>/withdraw/", views.withdraw, name="withdraw"),
    path("ops/", views.ops_list, name="ops"),
    path("ops/applications/<str:application_id>/", views.ops_detail, name="ops-detail"),
    path("ops/applications/<str:application_id>/decide/", views.ops_decide, name="ops-decide"),
    path("ops/applications/<str:application_id>/certificate/", views.ops_certificate, name="ops-certificate"),
    path("ops/<str:programme_id>/report.<str:fmt>", views.ops_report, name="ops-report"),
    path("<str:programme_id>/apply/", views.apply, name="apply"),
]
