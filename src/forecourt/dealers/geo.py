"""Great-circle geometry for the dealer finder: haversine distance and a search bounding box."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

# The mean Earth radius (IUGG), the usual choice for haversine distances.
EARTH_RADIUS_KM = 6371.0088
# Half the Earth's circumference: no two points are further apart than this.
MAX_DISTANCE_KM = math.pi * EARTH_RADIUS_KM


def haversine_km(
    lat1: float | Decimal, lng1: float | Decimal, lat2: float | Decimal, lng2: float | Decimal
) -> float:
    """The great-circle distance in kilometres between two points given in degrees."""
    phi1, phi2 = math.radians(float(lat1)), math.radians(float(lat2))
    delta_phi = phi2 - phi1
    delta_lambda = math.radians(float(lng2) - float(lng1))
    a = math.sin(delta_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(delta_lambda / 2) ** 2
    # min() guards against rounding pushing `a` a hair above 1 for antipodal points.
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, a)))


def destination_point(
    latitude: float, longitude: float, distance_km: float, bearing_degrees: float
) -> tuple[float, float]:
    """The point `distance_km` away along the great circle leaving at `bearing_degrees` (0 = north)."""
    angular = distance_km / EARTH_RADIUS_KM
    bearing = math.radians(bearing_degrees)
    phi1, lambda1 = math.radians(latitude), math.radians(longitude)
    phi2 = math.asin(
        math.sin(phi1) * math.cos(angular) + math.cos(phi1) * math.sin(angular) * math.cos(bearing)
    )
    lambda2 = lambda1 + math.atan2(
        math.sin(bearing) * math.sin(angular) * math.cos(phi1),
        math.cos(angular) - math.sin(phi1) * math.sin(phi2),
    )
    # Normalise the longitude into [-180, 180).
    return math.degrees(phi2), (math.degrees(lambda2) + 540) % 360 - 180


@dataclass(frozen=True)
class BoundingBox:
    """Degrees; `longitude_ranges` holds two ranges when the box crosses the antimeridian."""

    latitude_min: float
    latitude_max: float
    longitude_ranges: tuple[tuple[float, float], ...]

    @property
    def is_whole_earth(self) -> bool:
        return (
            self.latitude_min <= -90
            and self.latitude_max >= 90
            and self.longitude_ranges == ((-180.0, 180.0),)
        )

    def contains(self, latitude: float, longitude: float) -> bool:
        if not self.latitude_min <= latitude <= self.latitude_max:
            return False
        return any(low <= longitude <= high for low, high in self.longitude_ranges)


# Box edges are widened by this many degrees so that rounding to the stored six decimals (and float
# error) can never leave a point that is inside the circle outside the box.
_EDGE_SLACK_DEGREES = 1e-5


def bounding_box(latitude: float, longitude: float, radius_km: float) -> BoundingBox:
    """The smallest latitude/longitude box holding every point within `radius_km` of the origin.

    Uses the exact spherical-cap bounds (Matuschek, "Finding Points Within a Distance of a
    Latitude/Longitude Using Bounding Coordinates"), so it is a superset of the circle at any latitude.
    """
    angular = radius_km / EARTH_RADIUS_KM
    if angular >= math.pi:
        return BoundingBox(-90.0, 90.0, ((-180.0, 180.0),))
    lat = math.radians(latitude)
    lat_min, lat_max = lat - angular, lat + angular
    if lat_min <= -math.pi / 2 or lat_max >= math.pi / 2:
        # The circle covers a pole, so every longitude is in range.
        return BoundingBox(
            max(-90.0, math.degrees(lat_min) - _EDGE_SLACK_DEGREES),
            min(90.0, math.degrees(lat_max) + _EDGE_SLACK_DEGREES),
            ((-180.0, 180.0),),
        )
    delta_lng = math.degrees(math.asin(min(1.0, math.sin(angular) / math.cos(lat)))) + _EDGE_SLACK_DEGREES
    low, high = longitude - delta_lng, longitude + delta_lng
    ranges: tuple[tuple[float, float], ...]
    if high - low >= 360:
        ranges = ((-180.0, 180.0),)
    elif low < -180:
        ranges = ((low + 360, 180.0), (-180.0, high))
    elif high > 180:
        ranges = ((low, 180.0), (-180.0, high - 360))
    else:
        ranges = ((low, high),)
    return BoundingBox(
        math.degrees(lat_min) - _EDGE_SLACK_DEGREES, math.degrees(lat_max) + _EDGE_SLACK_DEGREES, ranges
    )
