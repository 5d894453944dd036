"""Parsing a nearest-dealer search, shared by the API and the finder page so both judge input alike."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from forecourt.dealers.models import SERVICES, City
from forecourt.dealers.selectors import DealerDistance, dealer_nearest

DEFAULT_LIMIT = 10
MAX_LIMIT = 50


class NearestDealerForm(forms.Form):
    """`lat` and `lng` (degrees) or `city` (a code: search from its centre, within it); `service`; `limit`."""

    lat = forms.FloatField(required=False, min_value=-90, max_value=90, label=gettext_lazy("Latitude"))
    lng = forms.FloatField(required=False, min_value=-180, max_value=180, label=gettext_lazy("Longitude"))
    city = forms.CharField(required=False, max_length=40, label=gettext_lazy("City"))
    service = forms.CharField(required=False, max_length=20, label=gettext_lazy("Service"))
    limit = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_LIMIT, label=gettext_lazy("Results")
    )

    def clean_city(self) -> City | None:
        code = self.cleaned_data.get("city") or ""
        if not code:
            return None
        city = City.objects.filter(code=code).first()
        if city is None:
            raise forms.ValidationError(_("Unknown city."), code="unknown_city")
        return city

    def clean_service(self) -> str | None:
        service = self.cleaned_data.get("service") or None
        if service is not None and service not in SERVICES:
            raise forms.ValidationError(
                _("Unknown service. Choose one of: %(allowed)s.") % {"allowed": ", ".join(SERVICES)},
                code="unknown_service",
            )
        return service

    def clean_limit(self) -> int:
        return self.cleaned_data.get("limit") or DEFAULT_LIMIT

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        has_lat = cleaned.get("lat") is not None or "lat" in self.errors
        has_lng = cleaned.get("lng") is not None or "lng" in self.errors
        if has_lat and not has_lng:
            self.add_error("lng", _("Give the longitude with the latitude."))
        elif has_lng and not has_lat:
            self.add_error("lat", _("Give the latitude with the longitude."))
        elif not has_lat and cleaned.get("city") is None and "city" not in self.errors:
            self.add_error("lat", _("Give a position (lat and lng) or a city."))
            self.add_error("lng", _("Give a position (lat and lng) or a city."))
        return cleaned

    def error_details(self) -> list[dict[str, Any]]:
        """The form's errors as the API's `details`: one entry per field and message."""
        details: list[dict[str, Any]] = []
        for field, messages in self.errors.items():
            for message in messages:
                entry: dict[str, Any] = {"field": None if field == "__all__" else field, "message": message}
                if field == "service":
                    entry["allowed"] = list(SERVICES)
                details.append(entry)
        return details

    def search(self) -> list[DealerDistance]:
        """Run the search: from the position or else the city's centre; within the city if one is given."""
        data = self.cleaned_data
        city: City | None = data["city"]
        if data["lat"] is not None:
            latitude, longitude = data["lat"], data["lng"]
        else:
            assert city is not None  # clean() requires a position or a city
            latitude, longitude = city.latitude, city.longitude
        return dealer_nearest(
            latitude=latitude,
            longitude=longitude,
            service=data["service"],
            limit=data["limit"],
            city_code=city.code if city else None,
        )
