"""The rewards pages, mounted at /club/rewards/ (the member club's own pages are at /club/)."""

from django.urls import path

from forecourt.loyalty import reward_views

app_name = "loyalty-rewards"
urlpatterns = [
    path("", reward_views.catalogue, name="catalogue"),
    path("mine/", reward_views.mine, name="mine"),
    path("mine/<str:public_id>/", reward_views.redemption, name="redemption"),
    path("mine/<str:public_id>/status/", reward_views.redemption_status, name="redemption-status"),
    path("mine/<str:public_id>/pay/", reward_views.redemption_pay, name="redemption-pay"),
    path("<str:public_id>/", reward_views.reward, name="reward"),
    path("<str:public_id>/redeem/", reward_views.redeem, name="redeem"),
]
