"""The write-off page for dealer and merchant staff, mounted at /workspace/vouchers/."""

from django.urls import path

from forecourt.offers import workspace_views

app_name = "offers-workspace"
urlpatterns = [
    path("", workspace_views.write_off, name="write-off"),
    path("lookup/", workspace_views.lookup, name="lookup"),
    path("redeem/", workspace_views.redeem, name="redeem"),
]
