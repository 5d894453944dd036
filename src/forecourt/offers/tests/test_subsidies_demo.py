"""The subsidy demo data: one programme with applications in every state."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from forecourt.accounts.models import Role
from forecourt.accounts.tests.factories import make_user
from forecourt.catalog.tests.factories import VehicleModelFactory
from forecourt.offers.demo_subsidies import PROGRAMME_NAME, fake_resident_id, seed_subsidies
from forecourt.offers.models import SubsidyApplication, SubsidyProgramme, Voucher
from forecourt.offers.services.subsidies import id_number_normalise

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path: Path) -> Path:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path},
        },
    }
    return tmp_path


def test_fake_resident_ids_pass_the_check() -> None:
    rng = random.Random(7)
    for _ in range(200):
        number = fake_resident_id(rng)
        assert id_number_normalise(id_type="resident_id", id_number=number) == number


def test_the_demo_programme_has_applications_in_every_state(media: Path) -> None:
    VehicleModelFactory()
    make_user(role=Role.OPS)
    for index in range(8):
        make_user(role=Role.CONSUMER, display_name=f"测试用户{index}")
    programme = seed_subsidies(rng=random.Random(3))
    assert programme is not None and SubsidyProgramme.objects.get().name == PROGRAMME_NAME
    statuses = set(SubsidyApplication.objects.values_list("status", flat=True))
    assert statuses == {"submitted", "approved", "rejected", "withdrawn"}
    assert Voucher.objects.filter(application__isnull=False).count() == 3
    assert len([path for path in media.rglob("*") if path.is_file()]) == 8
    assert seed_subsidies(rng=random.Random(3)) is None
