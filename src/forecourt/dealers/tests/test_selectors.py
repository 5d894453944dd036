from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecourt.core.errors import DomainError, NotFound
from forecourt.dealers.geo import destination_point, haversine_km
from forecourt.dealers.models import SERVICES, Dealer
from forecourt.dealers.selectors import cities_all, dealer_get, dealer_nearest, dealers_in_city
from forecourt.dealers.tests.factories import (
    HANGZHOU,
    SHANGHAI,
    CityFactory,
    DealerFactory,
    hangzhou,
    shanghai,
)

pytestmark = pytest.mark.django_db


def _at(city, distance_km: float, bearing: float = 90, **fields) -> Dealer:
    """A dealer `distance_km` from the city centre."""
    lat, lng = destination_point(float(city.latitude), float(city.longitude), distance_km, bearing)
    return DealerFactory.create(
        city=city, latitude=Decimal(f"{lat:.6f}"), longitude=Decimal(f"{lng:.6f}"), **fields
    )


def test_nearest_dealers_come_in_ascending_distance():
    hz, sh = hangzhou(), shanghai()
    far = _at(hz, 30)
    near = _at(hz, 2)
    middle = _at(hz, 12, bearing=200)
    in_shanghai = _at(sh, 0)

    found = dealer_nearest(latitude=HANGZHOU[0], longitude=HANGZHOU[1])

    assert [item.dealer for item in found] == [near, middle, far, in_shanghai]
    assert [round(item.distance_km, 2) for item in found[:3]] == [2.0, 12.0, 30.0]
    assert found[3].distance_km == pytest.approx(164.87, abs=0.01)


def test_distance_is_the_great_circle_distance():
    dealer = DealerFactory.create(city=hangzhou())
    [found] = dealer_nearest(latitude=SHANGHAI[0], longitude=SHANGHAI[1])
    assert found.dealer == dealer
    assert found.distance_km == haversine_km(*SHANGHAI, dealer.latitude, dealer.longitude)


def test_floats_and_decimals_are_both_accepted():
    DealerFactory.create(city=hangzhou())
    by_float = dealer_nearest(latitude=30.274084, longitude=120.15507)
    by_decimal = dealer_nearest(latitude=HANGZHOU[0], longitude=HANGZHOU[1])
    assert by_float[0].distance_km == pytest.approx(0, abs=1e-6)
    assert by_decimal[0].distance_km == 0


def test_an_experience_store_is_never_found_for_sales():
    city = hangzhou()
    store = _at(city, 0.5, experience_store=True)
    dealer = _at(city, 8)

    for_sales = dealer_nearest(latitude=HANGZHOU[0], longitude=HANGZHOU[1], service="sales")
    for_test_drives = dealer_nearest(latitude=HANGZHOU[0], longitude=HANGZHOU[1], service="test_drive")

    assert [item.dealer for item in for_sales] == [dealer]
    assert [item.dealer for item in for_test_drives] == [store, dealer]


@pytest.mark.parametrize("service", SERVICES)
def test_every_result_offers_the_service(service):
    city = hangzhou()
    _at(city, 1)
    _at(city, 2, experience_store=True)
    _at(city, 3, delivery_centre=True)
    _at(city, 4, service_centre=True)
    found = dealer_nearest(latitude=HANGZHOU[0], longitude=HANGZHOU[1], service=service)
    assert found
    assert all(item.dealer.offers(service) for item in found)
    assert len(found) == Dealer.objects.filter(**{f"offers_{service}": True}).count()


def test_limit_caps_the_results_to_the_nearest():
    city = hangzhou()
    dealers = [_at(city, distance) for distance in (5, 1, 4, 2, 3)]
    found = dealer_nearest(latitude=HANGZHOU[0], longitude=HANGZHOU[1], limit=2)
    assert [item.dealer for item in found] == [dealers[1], dealers[3]]
    assert len(dealer_nearest(latitude=HANGZHOU[0], longitude=HANGZHOU[1], limit=1)) == 1


def test_city_code_keeps_results_in_that_city():
    hz, sh = hangzhou(), shanghai()
    in_hangzhou = _at(hz, 15)
    _at(sh, 0)
    # From Shanghai's centre, the Shanghai dealer is nearer, but only Hangzhou's count.
    found = dealer_nearest(latitude=SHANGHAI[0], longitude=SHANGHAI[1], city_code="hangzhou")
    assert [item.dealer for item in found] == [in_hangzhou]


def test_inactive_dealers_are_never_found():
    city = hangzhou()
    _at(city, 1, is_active=False)
    active = _at(city, 5)
    assert [item.dealer for item in dealer_nearest(latitude=HANGZHOU[0], longitude=HANGZHOU[1])] == [active]


def test_no_dealers_means_no_results():
    assert dealer_nearest(latitude=HANGZHOU[0], longitude=HANGZHOU[1]) == []


def test_a_far_away_origin_still_finds_the_nearest_dealers_in_few_queries():
    city = hangzhou()
    dealers = [_at(city, distance) for distance in (1, 2, 3)]
    with CaptureQueriesContext(connection) as queries:
        # From São Paulo, nearly antipodal to Hangzhou.
        found = dealer_nearest(latitude=-23.55, longitude=-46.63, limit=2)
    assert {item.dealer for item in found} <= set(dealers)
    assert len(found) == 2
    assert found[0].distance_km <= found[1].distance_km
    assert len(queries.captured_queries) <= 12


def test_a_dense_city_is_answered_from_a_small_box():
    city = hangzhou()
    for distance in range(1, 13):
        _at(city, distance, bearing=distance * 30)
    _at(shanghai(), 0)
    with CaptureQueriesContext(connection) as queries:
        found = dealer_nearest(latitude=HANGZHOU[0], longitude=HANGZHOU[1], limit=10)
    assert [round(item.distance_km) for item in found] == list(range(1, 11))
    # The count, one box (20 km holds ten), and loading the ten dealers.
    assert len(queries.captured_queries) == 3


def test_dealers_across_the_antimeridian_are_found():
    city = CityFactory.create(code="fiji", latitude=Decimal("-17.8"), longitude=Decimal("178.0"))
    east = DealerFactory.create(city=city, latitude=Decimal("-17.8"), longitude=Decimal("-179.95"))
    west = DealerFactory.create(city=city, latitude=Decimal("-17.8"), longitude=Decimal("179.9"))
    found = dealer_nearest(latitude=-17.8, longitude=179.99, limit=2)
    assert [item.dealer for item in found] == [east, west]
    assert found[0].distance_km < 7


def test_an_unknown_service_is_a_422_naming_the_field_and_the_choices():
    with pytest.raises(DomainError) as raised:
        dealer_nearest(latitude=30, longitude=120, service="car_wash")
    assert raised.value.status == 422
    assert raised.value.details[0]["field"] == "service"
    assert raised.value.details[0]["allowed"] == ["sales", "test_drive", "delivery", "service"]


@pytest.mark.parametrize(
    ("latitude", "longitude", "field"),
    [
        (90.1, 120, "latitude"),
        (float("nan"), 120, "latitude"),
        ("north", 120, "latitude"),
        (30, 180.5, "longitude"),
        (30, float("inf"), "longitude"),
    ],
)
def test_bad_coordinates_are_a_422_naming_the_field(latitude, longitude, field):
    with pytest.raises(DomainError) as raised:
        dealer_nearest(latitude=latitude, longitude=longitude)
    assert raised.value.status == 422
    assert raised.value.details[0]["field"] == field


@pytest.mark.parametrize("limit", [0, -1, True])
def test_a_limit_below_one_is_a_422(limit):
    with pytest.raises(DomainError) as raised:
        dealer_nearest(latitude=30, longitude=120, limit=limit)
    assert raised.value.details[0]["field"] == "limit"


def test_an_unknown_city_is_not_found():
    with pytest.raises(NotFound):
        dealer_nearest(latitude=30, longitude=120, city_code="atlantis")
    with pytest.raises(NotFound):
        dealers_in_city(city_code="atlantis")


def test_dealers_in_city_by_name_and_service():
    city = hangzhou()
    second = DealerFactory.create(city=city, name="杭州西湖瑞丰汽车4S店")
    first = DealerFactory.create(city=city, name="杭州湖滨银泰体验店", experience_store=True)
    DealerFactory.create(city=shanghai())
    assert dealers_in_city(city_code="hangzhou") == sorted([first, second], key=lambda dealer: dealer.name)
    assert dealers_in_city(city_code="hangzhou", service="sales") == [second]


def test_dealer_get_by_public_id_only():
    dealer = DealerFactory.create(city=hangzhou())
    assert dealer_get(public_id=dealer.public_id) == dealer
    with pytest.raises(NotFound):
        dealer_get(public_id=str(dealer.pk))
    with pytest.raises(NotFound):
        dealer_get(public_id="dlr_0000000000000000")


def test_dealer_get_hides_inactive_dealers_unless_asked():
    dealer = DealerFactory.create(city=hangzhou(), is_active=False)
    with pytest.raises(NotFound):
        dealer_get(public_id=dealer.public_id)
    assert dealer_get(public_id=dealer.public_id, include_inactive=True) == dealer


def test_cities_all_groups_by_province():
    CityFactory.create(code="ningbo", name="宁波", name_en="Ningbo", province="浙江", province_en="Zhejiang")
    hangzhou()
    shanghai()
    assert [city.code for city in cities_all()] == ["shanghai", "hangzhou", "ningbo"]


# ---- The property: the selector's answer equals brute force over every dealer ----------------------

origins = st.tuples(
    st.floats(min_value=-89.9, max_value=89.9, allow_nan=False),
    st.floats(min_value=-180, max_value=179.999, allow_nan=False),
)


@st.composite
def dealer_spreads(draw):
    """An origin and dealers around it at scales from a street to a continent, some anywhere at all."""
    origin = draw(origins)
    points = []
    for _ in range(draw(st.integers(min_value=0, max_value=25))):
        if draw(st.booleans()):
            distance = draw(st.sampled_from([0.5, 5, 50, 500, 5000])) * draw(
                st.floats(min_value=0, max_value=1)
            )
            point = destination_point(
                origin[0], origin[1], distance, draw(st.floats(min_value=0, max_value=360))
            )
        else:
            point = draw(origins)
        offers = draw(st.sampled_from(["dealer_4s", "experience_store", "service_centre"]))
        points.append((point, offers, draw(st.booleans()) or offers != "experience_store"))
    return origin, points


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    spread=dealer_spreads(),
    limit=st.integers(min_value=1, max_value=12),
    service=st.sampled_from([None, *SERVICES]),
)
def test_nearest_matches_brute_force_over_all_dealers(spread, limit, service):
    origin, points = spread
    with transaction.atomic():
        city = CityFactory.create(code="anywhere")
        for (lat, lng), kind, test_drives in points:
            DealerFactory.create(
                city=city,
                latitude=Decimal(f"{lat:.6f}"),
                longitude=Decimal(f"{lng:.6f}"),
                **{kind: True} if kind != "dealer_4s" else {},
                **({"offers_test_drive": test_drives} if kind == "experience_store" else {}),
            )
        eligible = Dealer.objects.filter(**{f"offers_{service}": True}) if service else Dealer.objects.all()
        brute = sorted(
            haversine_km(origin[0], origin[1], dealer.latitude, dealer.longitude) for dealer in eligible
        )

        found = dealer_nearest(latitude=origin[0], longitude=origin[1], service=service, limit=limit)

        distances = [item.distance_km for item in found]
        assert distances == pytest.approx(brute[:limit], abs=1e-9)
        if found:
            assert all(found[0].distance_km <= other for other in brute)
        transaction.set_rollback(True)
