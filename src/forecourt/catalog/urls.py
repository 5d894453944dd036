from django.urls import path

from forecourt.catalog import views

app_name = "catalog"
urlpatterns = [
    path("models/<slug:code>/", views.model_detail, name="model-detail"),
    path("configure/<slug:trim_code>/", views.configure, name="configure"),
    path("configure/<slug:trim_code>/summary/", views.configure_summary, name="configure-summary"),
    path("configure/<slug:trim_code>/save/", views.configure_save, name="configure-save"),
    path("c/<str:share_code>/", views.configuration_detail, name="configuration-detail"),
    path("compare/", views.compare, name="compare"),
]
