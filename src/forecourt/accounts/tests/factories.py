"""Factories and a small cast for accounts tests: a consumer, staff of a dealer, ops, a broker."""

from decimal import Decimal

import factory
from django.apps import apps

from forecourt.accounts.models import Role, User

STAFF_PASSWORD = "correct-horse-battery"


def make_dealer(name: str = "上海浦东4S店") -> object:
    """A dealer to bind staff to (through the app registry: accounts does not import dealers)."""
    city_model = apps.get_model("dealers", "City")
    dealer_model = apps.get_model("dealers", "Dealer")
    city, _created = city_model.objects.get_or_create(
        code="shanghai",
        defaults={
            "name": "上海",
            "province": "上海",
            "latitude": Decimal("31.230400"),
            "longitude": Decimal("121.473700"),
        },
    )
    return dealer_model.objects.create(
        name=name,
        city=city,
        address="浦东新区张杨路 1 号",
        latitude=Decimal("31.230400"),
        longitude=Decimal("121.473700"),
        kind="dealer_4s",
        offers_sales=True,
        offers_test_drive=True,
        offers_delivery=True,
        offers_service=True,
    )


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff-{n}")
    display_name = factory.Sequence(lambda n: f"员工{n}")
    role = Role.OPS
    password = factory.PostGenerationMethodCall("set_password", STAFF_PASSWORD)

    @factory.post_generation
    def save_password(obj: User, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            obj.save()


def make_user(**fields: object) -> User:
    """A user with the password STAFF_PASSWORD (an ops member unless `role` says otherwise)."""
    user = UserFactory(**fields)
    assert isinstance(user, User)
    return user
