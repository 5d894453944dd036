"""Skeleton: the helper building these pages replaces this file."""

from django.urls import URLPattern

app_name = "referrals-ops"

urlpatterns: list[URLPattern] = []
