from django.urls import path

from forecourt.accounts import views

app_name = "accounts"
urlpatterns = [
    path("account/sign-in/", views.sign_in, name="sign-in"),
]
