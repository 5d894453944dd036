"""Skeleton: the helper building these pages replaces this file."""

from django.urls import URLPattern

app_name = "loyalty-rewards"

urlpatterns: list[URLPattern] = []
