from decimal import Decimal

import pytest

from forecourt.core.models import AuditEntry, Event
from forecourt.dealers.geo import destination_point
from forecourt.dealers.tests.factories import (
    HANGZHOU,
    SHANGHAI,
    CityFactory,
    DealerFactory,
    hangzhou,
    shanghai,
)

pytestmark = pytest.mark.django_db

NEAREST = "/api/v1/dealers/nearest"


def _at(city, distance_km: float, bearing: float = 90, **fields):
    lat, lng = destination_point(float(city.latitude), float(city.longitude), distance_km, bearing)
    return DealerFactory.create(
        city=city, latitude=Decimal(f"{lat:.6f}"), longitude=Decimal(f"{lng:.6f}"), **fields
    )


def _fields_of(response) -> list[str]:
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == "invalid"
    return [entry["field"] for entry in body["details"]]


def test_nearest_returns_dealers_in_ascending_distance(client):
    hz = hangzhou()
    far = _at(hz, 9.876)
    near = _at(hz, 1.234, experience_store=True, name="杭州湖滨银泰体验店")

    response = client.get(NEAREST, {"lat": str(HANGZHOU[0]), "lng": str(HANGZHOU[1])})

    assert response.status_code == 200
    body = response.json()
    assert [item["id"] for item in body] == [near.public_id, far.public_id]
    assert [item["distance_km"] for item in body] == [1.23, 9.88]
    first = body[0]
    assert first["name"] == "杭州湖滨银泰体验店"
    assert first["city"] == {"code": "hangzhou", "name": "杭州", "name_en": "Hangzhou", "province": "浙江"}
    assert first["services"] == ["test_drive"]
    assert first["kind"] == "experience_store"
    assert first["province"] == "浙江"
    assert first["phone"] == "0571-87654321"
    assert first["opening_hours"]["mon"] == ["09:00", "21:00"]
    assert first["hours_today"] == ["09:00", "21:00"]
    assert first["latitude"] == float(near.latitude)
    assert body[1]["services"] == ["sales", "test_drive", "delivery", "service"]


def test_nearest_never_exposes_database_keys(client):
    dealer = DealerFactory.create(city=hangzhou())
    [item] = client.get(NEAREST, {"lat": "30.27", "lng": "120.15"}).json()
    assert item["id"] == dealer.public_id
    assert "pk" not in item
    assert set(item) >= {"id", "name", "city", "distance_km", "services"}


def test_service_filter_never_returns_an_experience_store_for_sales(client):
    hz = hangzhou()
    _at(hz, 0.2, experience_store=True)
    dealer = _at(hz, 5)
    body = client.get(NEAREST, {"lat": "30.274084", "lng": "120.155070", "service": "sales"}).json()
    assert [item["id"] for item in body] == [dealer.public_id]


def test_limit_defaults_to_ten_and_allows_fifty(client):
    hz = hangzhou()
    for distance in range(1, 13):
        _at(hz, distance)
    query = {"lat": "30.274084", "lng": "120.155070"}
    assert len(client.get(NEAREST, query).json()) == 10
    assert len(client.get(NEAREST, {**query, "limit": "50"}).json()) == 12
    assert len(client.get(NEAREST, {**query, "limit": "1"}).json()) == 1


@pytest.mark.parametrize("limit", ["0", "51", "-3", "ten", "2.5"])
def test_limit_out_of_bounds_is_a_422_naming_limit(client, limit):
    response = client.get(NEAREST, {"lat": "30", "lng": "120", "limit": limit})
    assert response.status_code == 422
    assert _fields_of(response) == ["limit"]


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ({}, ["lat", "lng"]),
        ({"lat": "30"}, ["lng"]),
        ({"lng": "120"}, ["lat"]),
        ({"lat": "91", "lng": "120"}, ["lat"]),
        ({"lat": "-90.5", "lng": "120"}, ["lat"]),
        ({"lat": "30", "lng": "181"}, ["lng"]),
        ({"lat": "north", "lng": "120"}, ["lat"]),
        ({"lat": "nan", "lng": "120"}, ["lat"]),
        ({"lat": "30", "lng": "inf"}, ["lng"]),
        ({"lat": "30", "lng": "1e999"}, ["lng"]),
        ({"lat": "", "lng": ""}, ["lat", "lng"]),
    ],
)
def test_missing_or_invalid_coordinates_are_a_422_naming_the_field(client, query, fields):
    response = client.get(NEAREST, query)
    assert response.status_code == 422
    assert _fields_of(response) == fields


def test_an_unknown_service_is_a_422_listing_the_allowed_values(client):
    response = client.get(NEAREST, {"lat": "30", "lng": "120", "service": "car_wash"})
    assert response.status_code == 422
    [detail] = response.json()["details"]
    assert detail["field"] == "service"
    assert detail["allowed"] == ["sales", "test_drive", "delivery", "service"]
    assert "sales, test_drive, delivery, service" in detail["message"]


def test_city_instead_of_coordinates_searches_that_city_from_its_centre(client):
    hz, sh = hangzhou(), shanghai()
    further = _at(hz, 7)
    nearer = _at(hz, 3, bearing=180)
    _at(sh, 0)
    body = client.get(NEAREST, {"city": "hangzhou", "service": "test_drive"}).json()
    assert [item["id"] for item in body] == [nearer.public_id, further.public_id]
    assert [item["distance_km"] for item in body] == [3.0, 7.0]
    assert {item["city"]["code"] for item in body} == {"hangzhou"}


def test_coordinates_with_a_city_measure_from_the_coordinates(client):
    hz = hangzhou()
    dealer = _at(hz, 0)
    [item] = client.get(
        NEAREST, {"city": "hangzhou", "lat": str(SHANGHAI[0]), "lng": str(SHANGHAI[1])}
    ).json()
    assert item["id"] == dealer.public_id
    assert item["distance_km"] == pytest.approx(164.87, abs=0.01)


def test_an_unknown_city_is_a_422_naming_city(client):
    response = client.get(NEAREST, {"city": "atlantis"})
    assert response.status_code == 422
    assert _fields_of(response) == ["city"]


def test_nearest_changes_nothing(client):
    DealerFactory.create(city=hangzhou())
    client.get(NEAREST, {"city": "hangzhou"})
    client.get(NEAREST, {"lat": "bad"})
    assert Event.objects.count() == 0
    assert AuditEntry.objects.count() == 0


def test_get_dealer_by_public_id(client):
    dealer = DealerFactory.create(
        city=hangzhou(), name="杭州西湖瑞丰汽车4S店", address="杭州市西湖区文三路388号"
    )
    response = client.get(f"/api/v1/dealers/{dealer.public_id}")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == dealer.public_id
    assert body["name"] == "杭州西湖瑞丰汽车4S店"
    assert body["address"] == "杭州市西湖区文三路388号"
    assert body["services"] == ["sales", "test_drive", "delivery", "service"]
    assert "distance_km" not in body


def test_unknown_dealer_is_a_404_in_the_shared_shape(client):
    response = client.get("/api/v1/dealers/dlr_NOSUCHDEALER0000")
    assert response.status_code == 404
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == "not_found"


def test_a_sequential_key_is_never_accepted(client):
    dealer = DealerFactory.create(city=hangzhou())
    assert client.get(f"/api/v1/dealers/{dealer.pk}").status_code == 404
    assert client.get(f"/api/v1/dealers/{dealer.pk}/").status_code == 404


def test_an_inactive_dealer_is_a_404(client):
    dealer = DealerFactory.create(city=hangzhou(), is_active=False)
    assert client.get(f"/api/v1/dealers/{dealer.public_id}").status_code == 404


def test_cities_lists_every_city(client):
    hangzhou()
    CityFactory.create(
        code="ningbo",
        name="宁波",
        name_en="Ningbo",
        latitude=Decimal("29.868336"),
        longitude=Decimal("121.54399"),
    )
    response = client.get("/api/v1/dealers/cities")
    assert response.status_code == 200
    body = response.json()
    assert [city["code"] for city in body] == ["hangzhou", "ningbo"]
    assert body[1] == {
        "code": "ningbo",
        "name": "宁波",
        "name_en": "Ningbo",
        "province": "浙江",
        "province_en": "Zhejiang",
        "latitude": 29.868336,
        "longitude": 121.54399,
    }
