import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from forecourt.dealers.geo import (
    EARTH_RADIUS_KM,
    MAX_DISTANCE_KM,
    bounding_box,
    destination_point,
    haversine_km,
)
from forecourt.dealers.tests.factories import HANGZHOU, NANJING, SHANGHAI, SUZHOU

latitudes = st.floats(min_value=-90, max_value=90, allow_nan=False)
longitudes = st.floats(min_value=-180, max_value=180, allow_nan=False, exclude_max=True)


def test_shanghai_to_hangzhou_is_about_164_km():
    assert haversine_km(*SHANGHAI, *HANGZHOU) == pytest.approx(164, abs=2)


def test_nanjing_to_suzhou_is_about_189_km():
    assert haversine_km(*NANJING, *SUZHOU) == pytest.approx(189, abs=2)


def test_known_city_pairs():
    beijing = (39.904211, 116.407395)
    guangzhou = (23.129110, 113.264385)
    shenzhen = (22.543099, 114.057868)
    assert haversine_km(*beijing, *SHANGHAI) == pytest.approx(1067, abs=5)
    assert haversine_km(*guangzhou, *shenzhen) == pytest.approx(104, abs=2)
    assert haversine_km(*SHANGHAI, *SUZHOU) == pytest.approx(85, abs=2)


def test_the_same_point_is_zero_km_away():
    assert haversine_km(*HANGZHOU, *HANGZHOU) == 0


def test_antipodes_are_half_the_circumference_apart():
    assert haversine_km(0, 0, 0, 180) == pytest.approx(math.pi * EARTH_RADIUS_KM)
    assert haversine_km(90, 0, -90, 0) == pytest.approx(MAX_DISTANCE_KM)


def test_one_degree_of_latitude_is_about_111_km():
    assert haversine_km(30, 120, 31, 120) == pytest.approx(111.195, abs=0.01)


@given(latitudes, longitudes, latitudes, longitudes)
def test_distance_is_symmetric_and_bounded(lat1, lng1, lat2, lng2):
    there = haversine_km(lat1, lng1, lat2, lng2)
    assert there == pytest.approx(haversine_km(lat2, lng2, lat1, lng1), abs=1e-6)
    assert 0 <= there <= MAX_DISTANCE_KM + 1e-6


@given(
    latitudes,
    longitudes,
    st.floats(min_value=0.01, max_value=25_000),
    st.floats(min_value=0, max_value=1),
    st.floats(min_value=0, max_value=360),
)
def test_every_point_within_the_radius_is_inside_the_bounding_box(lat, lng, radius_km, fraction, bearing):
    point = destination_point(lat, lng, radius_km * fraction, bearing)
    assert bounding_box(lat, lng, radius_km).contains(*point)


@given(latitudes, longitudes, st.floats(min_value=0, max_value=5_000), st.floats(min_value=0, max_value=360))
def test_destination_point_is_that_far_away(lat, lng, distance_km, bearing):
    point = destination_point(lat, lng, distance_km, bearing)
    assert haversine_km(lat, lng, *point) == pytest.approx(distance_km, abs=1e-6)


def test_box_across_the_antimeridian_has_two_longitude_ranges():
    box = bounding_box(0, 179.9, 50)
    assert len(box.longitude_ranges) == 2
    assert box.contains(0, -179.9)
    assert not box.contains(0, 0)


def test_box_around_a_pole_spans_every_longitude():
    box = bounding_box(89.9, 10, 50)
    assert box.longitude_ranges == ((-180.0, 180.0),)
    assert box.contains(89.9, -170)


def test_a_huge_radius_covers_the_whole_earth():
    assert bounding_box(31, 121, MAX_DISTANCE_KM + 1).is_whole_earth
