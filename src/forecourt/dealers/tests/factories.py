"""Factories for the dealer network: cities at their real centres, dealers of every kind."""

from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from forecourt.dealers.models import City, Dealer

# City centres used across the tests (the same figures as the demo data).
SHANGHAI = (Decimal("31.230416"), Decimal("121.473701"))
HANGZHOU = (Decimal("30.274084"), Decimal("120.155070"))
NANJING = (Decimal("32.060255"), Decimal("118.796877"))
SUZHOU = (Decimal("31.298886"), Decimal("120.585316"))

FULL_WEEK = {day: ["09:00", "21:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


class CityFactory(DjangoModelFactory[City]):
    class Meta:
        model = City
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"city-{n}")
    name = factory.Sequence(lambda n: f"城市{n}")
    name_en = factory.Sequence(lambda n: f"City {n}")
    province = "浙江"
    province_en = "Zhejiang"
    latitude = HANGZHOU[0]
    longitude = HANGZHOU[1]


def hangzhou() -> City:
    return CityFactory.create(
        code="hangzhou",
        name="杭州",
        name_en="Hangzhou",
        province="浙江",
        province_en="Zhejiang",
        latitude=HANGZHOU[0],
        longitude=HANGZHOU[1],
    )


def shanghai() -> City:
    return CityFactory.create(
        code="shanghai",
        name="上海",
        name_en="Shanghai",
        province="上海",
        province_en="Shanghai",
        latitude=SHANGHAI[0],
        longitude=SHANGHAI[1],
    )


class DealerFactory(DjangoModelFactory[Dealer]):
    """A 4S dealer at its city's centre unless told otherwise; traits for the other kinds."""

    class Meta:
        model = Dealer

    name = factory.Sequence(lambda n: f"测试汽车4S店{n}")
    kind = Dealer.Kind.DEALER_4S
    city = factory.SubFactory(CityFactory)
    address = "杭州市西湖区文三路100号"
    latitude = factory.LazyAttribute(lambda dealer: dealer.city.latitude)
    longitude = factory.LazyAttribute(lambda dealer: dealer.city.longitude)
    phone = "0571-87654321"
    opening_hours = factory.LazyFunction(lambda: {day: list(hours) for day, hours in FULL_WEEK.items()})
    offers_sales = True
    offers_test_drive = True
    offers_delivery = True
    offers_service = True
    lead_capacity = 80
    demo_car_count = 4

    class Params:
        experience_store = factory.Trait(
            kind=Dealer.Kind.EXPERIENCE_STORE,
            name=factory.Sequence(lambda n: f"测试商场体验店{n}"),
            offers_sales=False,
            offers_delivery=False,
            offers_service=False,
        )
        delivery_centre = factory.Trait(
            kind=Dealer.Kind.DELIVERY_CENTRE,
            name=factory.Sequence(lambda n: f"测试交付中心{n}"),
            offers_sales=False,
            offers_service=False,
        )
        service_centre = factory.Trait(
            kind=Dealer.Kind.SERVICE_CENTRE,
            name=factory.Sequence(lambda n: f"测试服务中心{n}"),
            offers_sales=False,
            offers_test_drive=False,
            offers_delivery=False,
        )
