"""The dealer's member lookup (scan the member card), mounted at /workspace/members/."""

from django.urls import path

from forecourt.loyalty import workspace_views

app_name = "loyalty-workspace"
urlpatterns = [
    path("", workspace_views.lookup_page, name="lookup-page"),
    path("lookup/", workspace_views.lookup, name="lookup"),
]
