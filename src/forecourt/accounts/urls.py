from django.urls import path

from forecourt.accounts import views

app_name = "accounts"
urlpatterns = [
    path("account/", views.account, name="account"),
    path("account/sign-in/", views.sign_in, name="sign-in"),
    path("account/sign-in/send-code/", views.send_code, name="send-code"),
    path("account/sign-out/", views.sign_out, name="sign-out"),
    path("account/consents/<str:purpose>/withdraw/", views.consent_withdraw_view, name="consent-withdraw"),
    path("account/consents/<str:purpose>/grant/", views.consent_grant_view, name="consent-grant"),
    path("demo/outbox", views.demo_outbox, name="demo-outbox"),
    path("demo/outbox.json", views.demo_outbox_json, name="demo-outbox-json"),
]
