from django.urls import path

from forecourt.payments import views

app_name = "payments"

urlpatterns = [
    # Gateways post here without a trailing slash (the published addresses); before the page's pattern.
    path("payments/<str:provider>/notify", views.notify, name="notify"),
    path("payments/sandbox/<str:out_trade_no>/", views.sandbox_page, name="sandbox-page"),
]
