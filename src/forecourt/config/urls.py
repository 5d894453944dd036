from django.contrib import admin
from django.urls import include, path

from forecourt.config.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("ops/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("forecourt.accounts.urls")),
    path("", include("forecourt.catalog.urls")),
    path("", include("forecourt.dealers.urls")),
    path("", include("forecourt.leads.urls")),
    path("", include("forecourt.appointments.urls")),
    path("", include("forecourt.payments.urls")),
    path("", include("forecourt.orders.urls")),
    path("offers/", include("forecourt.offers.urls")),
    path("workspace/vouchers/", include("forecourt.offers.workspace_urls")),
    path("subsidies/", include("forecourt.offers.subsidy_urls")),
    path("", include("forecourt.web.urls")),
]

handler404 = "forecourt.web.views.not_found"
handler500 = "forecourt.web.views.server_error"
