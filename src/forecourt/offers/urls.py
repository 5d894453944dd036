from django.urls import path

from forecourt.offers import views

app_name = "offers"
urlpatterns = [
    path("", views.campaigns, name="campaigns"),
    path("voucher-key.json", views.voucher_key, name="voucher-key"),
    path("c/<str:public_id>/", views.campaign, name="campaign"),
    path("c/<str:public_id>/claim/", views.claim, name="claim"),
    path("mine/", views.mine, name="mine"),
    path("mine/<str:code>/", views.voucher, name="voucher"),
    path("mine/<str:code>/status/", views.voucher_status, name="voucher-status"),
    path("mine/<str:code>/pay/", views.voucher_pay, name="voucher-pay"),
    path("mine/<str:code>/refund/", views.voucher_refund_view, name="voucher-refund"),
]
