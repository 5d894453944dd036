from django.urls import path

from forecourt.orders import edition_views, offer_views, placement_views, views, workspace_views

app_name = "orders"
urlpatterns = [
    path("orders/", views.mine, name="mine"),
    path("orders/new/<str:share_code>/", placement_views.place, name="place"),
    path("orders/new/<str:share_code>/offers/", offer_views.place_offers_preview, name="place-offers"),
    path("orders/dealers/", placement_views.dealer_options, name="dealer-options"),
    path("orders/<str:number>/", views.detail, name="detail"),
    path("orders/<str:number>/payment-status/", views.payment_status, name="payment-status"),
    path("orders/<str:number>/pay/", views.pay, name="pay"),
    path("orders/<str:number>/lock/", views.lock, name="lock"),
    path("orders/<str:number>/change/", views.change, name="change"),
    path("orders/<str:number>/cancel/", views.cancel, name="cancel"),
    path("orders/<str:number>/delivery/", views.book_delivery, name="book-delivery"),
    path("orders/<str:number>/offers/", offer_views.order_offers, name="offers"),
    path("limited/", edition_views.editions, name="editions"),
    path("limited/<slug:code>/", edition_views.edition_detail, name="edition"),
    path("limited/<slug:code>/reserve/", edition_views.edition_reserve, name="edition-reserve"),
    path("workspace/orders/", workspace_views.order_list, name="workspace-list"),
    path("workspace/orders/<str:number>/", workspace_views.order_detail, name="workspace-detail"),
    path("workspace/orders/<str:number>/allocate/", workspace_views.allocate, name="workspace-allocate"),
    path(
        "workspace/orders/<str:number>/final-payment/",
        workspace_views.confirm_final_payment,
        name="workspace-final-payment",
    ),
    path("workspace/orders/<str:number>/delivery/", workspace_views.book_delivery, name="workspace-delivery"),
    path(
        "workspace/orders/<str:number>/delivered/",
        workspace_views.confirm_delivery,
        name="workspace-delivered",
    ),
]
