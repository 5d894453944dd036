import random
from collections import Counter

import pytest
from django.contrib.auth import get_user_model

from forecourt.dealers.demo_data import CITIES, seed
from forecourt.dealers.geo import haversine_km
from forecourt.dealers.models import City, Dealer, validate_opening_hours

pytestmark = pytest.mark.django_db

# Mainland China, generously: Hainan to Heilongjiang, Xinjiang to the east coast.
CHINA_LATITUDES = (18.0, 54.0)
CHINA_LONGITUDES = (73.0, 135.5)

EIGHT = {
    "shanghai": ("上海", "上海"),
    "nanjing": ("南京", "江苏"),
    "hangzhou": ("杭州", "浙江"),
    "suzhou": ("苏州", "江苏"),
    "ningbo": ("宁波", "浙江"),
    "tianjin": ("天津", "天津"),
    "chengdu": ("成都", "四川"),
    "shenzhen": ("深圳", "广东"),
}


@pytest.fixture
def seeded():
    seed(rng=random.Random(20261122))


def test_at_least_32_cities_including_the_eight(seeded):
    assert City.objects.count() >= 32
    for code, (name, province) in EIGHT.items():
        city = City.objects.get(code=code)
        assert (city.name, city.province) == (name, province)


def test_city_centres_are_in_china(seeded):
    for city in City.objects.all():
        assert CHINA_LATITUDES[0] < city.latitude < CHINA_LATITUDES[1], city.code
        assert CHINA_LONGITUDES[0] < city.longitude < CHINA_LONGITUDES[1], city.code
        assert city.name_en and city.province_en


def test_city_centres_are_given_to_at_least_four_decimals():
    for city in CITIES:
        assert len(city.latitude.split(".")[1]) >= 4, city.code
        assert len(city.longitude.split(".")[1]) >= 4, city.code


def test_city_centres_are_where_they_should_be(seeded):
    def centre(code):
        city = City.objects.get(code=code)
        return city.latitude, city.longitude

    assert haversine_km(*centre("shanghai"), *centre("hangzhou")) == pytest.approx(164, abs=3)
    assert haversine_km(*centre("nanjing"), *centre("suzhou")) == pytest.approx(189, abs=3)
    assert haversine_km(*centre("beijing"), *centre("tianjin")) == pytest.approx(110, abs=5)
    assert haversine_km(*centre("guangzhou"), *centre("shenzhen")) == pytest.approx(104, abs=3)
    assert haversine_km(*centre("chengdu"), *centre("chongqing")) == pytest.approx(266, abs=5)
    assert haversine_km(*centre("beijing"), *centre("urumqi")) == pytest.approx(2415, abs=15)


def test_at_least_120_dealers_of_every_kind_in_every_city(seeded):
    assert Dealer.objects.count() >= 120
    assert set(Dealer.objects.values_list("kind", flat=True)) == set(Dealer.Kind.values)
    per_city = Counter(Dealer.objects.values_list("city__code", flat=True))
    assert set(per_city) == set(City.objects.values_list("code", flat=True))
    assert min(per_city.values()) >= 2
    assert per_city["shanghai"] > per_city["ningbo"]
    assert Dealer.objects.filter(kind="experience_store", address__contains="太古里").exists()
    assert len(set(Dealer.objects.values_list("name", flat=True))) == Dealer.objects.count()


def test_every_dealer_is_in_china_near_its_city_centre(seeded):
    for dealer in Dealer.objects.select_related("city"):
        assert CHINA_LATITUDES[0] < dealer.latitude < CHINA_LATITUDES[1]
        assert CHINA_LONGITUDES[0] < dealer.longitude < CHINA_LONGITUDES[1]
        distance = haversine_km(
            dealer.latitude, dealer.longitude, dealer.city.latitude, dealer.city.longitude
        )
        assert distance < 60, dealer.name
        assert dealer.name.startswith(dealer.city.name) or dealer.kind == "experience_store"
        assert dealer.address.startswith(f"{dealer.city.name}市")


def test_dealers_have_hours_phones_capacity_and_sound_services(seeded):
    for dealer in Dealer.objects.all():
        validate_opening_hours(dealer.opening_hours)
        assert dealer.phone
        assert dealer.opening_hours
        assert dealer.lead_capacity > 0
        if dealer.kind == "experience_store":
            assert dealer.opening_hours["sat"] == ["10:00", "22:00"]
            assert not dealer.offers_sales and not dealer.offers_service
        if dealer.kind == "dealer_4s":
            assert dealer.opening_hours["mon"] in (["08:30", "18:30"], ["09:00", "21:00"])
            assert dealer.services == ["sales", "test_drive", "delivery", "service"]


def test_every_dealer_has_staff_who_cannot_sign_in(seeded):
    users = get_user_model().objects.filter(dealer__isnull=False)
    for dealer in Dealer.objects.prefetch_related("staff"):
        roles = Counter(person.role for person in dealer.staff.all())
        assert roles["dealer_manager"] == 1
        if dealer.kind == "dealer_4s":
            assert roles["sales_advisor"] >= 2
        if dealer.offers_service:
            assert roles["service_advisor"] >= 1
        for person in dealer.staff.all():
            assert person.username.startswith(f"{dealer.public_id.lower()}-")
            assert person.display_name
    assert not any(person.has_usable_password() for person in users)
    assert users.count() >= 3 * Dealer.objects.count()


def test_seeding_again_adds_no_dealers():
    seed(rng=random.Random(1))
    dealers, people = Dealer.objects.count(), get_user_model().objects.count()
    seed(rng=random.Random(2))
    assert (Dealer.objects.count(), get_user_model().objects.count()) == (dealers, people)
