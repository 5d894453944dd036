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
    path("club/", include("forecourt.loyalty.urls")),
    path("club/rewards/", include("forecourt.loyalty.reward_urls")),
    path("workspace/members/", include("forecourt.loyalty.workspace_urls")),
    path("", include("forecourt.referrals.urls")),
    path("broker/", include("forecourt.referrals.programme_urls")),
    path("referrals/ops/", include("forecourt.referrals.ops_urls")),
    path("", include("forecourt.web.urls")),
]

handler404 = "forecourt.web.views.not_found"
handler500 = "forecourt.web.views.server_error"
