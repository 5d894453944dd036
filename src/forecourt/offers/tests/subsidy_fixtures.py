"""Shared set-up for the subsidy tests: a programme, applicants, valid ID numbers and certificate files, and
an autouse `media` fixture storing uploads under the test's tmp_path (import it with the module's names:
`from forecourt.offers.tests.subsidy_fixtures import *`)."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from forecourt.accounts.models import Role, User
from forecourt.accounts.tests.factories import make_user
from forecourt.catalog.models import VehicleModel
from forecourt.catalog.tests.factories import VehicleModelFactory
from forecourt.core import clock
from forecourt.offers.demo_subsidies import demo_pdf, demo_png, fake_resident_id
from forecourt.offers.models import IdDocumentType, Sponsor, SubsidyApplication, SubsidyProgramme
from forecourt.offers.services import subsidy_apply, subsidy_programme_create


@pytest.fixture(autouse=True)
def media(settings, tmp_path: Path) -> Path:
    """Uploaded certificates go to the test's own folder; the path is returned to look at them."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path},
        },
    }
    return tmp_path


PNG = demo_png(random.Random(1))
PDF = demo_pdf("SH2026000001")
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64


def client_for(user: User) -> Client:
    """A test client signed in as `user`."""
    client = Client()
    client.force_login(user)
    return client


def make_ops() -> User:
    return make_user(role=Role.OPS)


def eligible_model() -> VehicleModel:
    return VehicleModelFactory.create()


def make_programme(
    *, pool_fen: int = 50_000_00, amount_fen: int = 10_000_00, **fields: Any
) -> SubsidyProgramme:
    at = clock.now()
    models = fields.pop("models", None) or [eligible_model()]
    values: dict[str, Any] = {
        "name": "上海市2026年汽车以旧换新补贴",
        "name_en": "Shanghai 2026 car replacement subsidy",
        "sponsor": Sponsor.GOVERNMENT,
        "city": None,
        "amount_fen": amount_fen,
        "pool_fen": pool_fen,
        "opens_at": at - timedelta(days=1),
        "closes_at": at + timedelta(days=30),
        "eligible_models": [model.code for model in models],
        "actor": None,
    }
    values.update(fields)
    return subsidy_programme_create(**values)


_ids = random.Random(20260101)


def resident_id() -> str:
    return fake_resident_id(_ids)


def certificate_file(content: bytes = PNG, name: str = "我的报废证明.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def application_fields(programme: SubsidyProgramme, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "full_name": "张伟",
        "id_type": IdDocumentType.RESIDENT_ID,
        "id_number": resident_id(),
        "scrapped_plate": "沪A12345",
        "certificate_number": "SH2026000123",
        "certificate": certificate_file(),
        "intended_model_code": programme.campaign.eligible_models[0],
    }
    values.update(overrides)
    return values


def apply_for(
    programme: SubsidyProgramme, applicant: User | None = None, **overrides: Any
) -> SubsidyApplication:
    from forecourt.offers.tests.factories import make_consumer

    return subsidy_apply(
        programme=programme,
        applicant=applicant or make_consumer(),
        **application_fields(programme, **overrides),
    )
