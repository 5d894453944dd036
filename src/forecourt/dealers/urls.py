from django.urls import path

from forecourt.dealers import views

app_name = "dealers"
urlpatterns = [
    path("dealers/", views.finder, name="finder"),
    path("dealers/results/", views.finder_results, name="finder-results"),
    path("dealers/<str:public_id>/", views.dealer_detail, name="dealer-detail"),
]
