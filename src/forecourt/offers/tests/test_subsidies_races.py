"""Real concurrency on PostgreSQL: 30 approvals at once against a pool for 10 → exactly 10 vouchers."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections

from forecourt.core.errors import DomainError
from forecourt.offers.models import ApplicationStatus, SubsidyApplication, Voucher
from forecourt.offers.services import subsidy_decide
from forecourt.offers.tests.subsidy_fixtures import apply_for, make_ops, make_programme

POSTGRES = settings.DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql")
pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(not POSTGRES, reason="needs PostgreSQL (set DATABASE_URL=postgres://...)"),
    pytest.mark.django_db(transaction=True),
]


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


def test_thirty_simultaneous_approvals_never_exceed_a_pool_for_ten() -> None:
    programme = make_programme(pool_fen=10 * 10_000_00)
    ops = make_ops()
    applications = [apply_for(programme) for _ in range(30)]
    barrier = threading.Barrier(len(applications))
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def approve(application: SubsidyApplication) -> None:
        try:
            barrier.wait()
            subsidy_decide(application=application, actor=ops, approve=True)
            result = "approved"
        except DomainError as error:
            result = error.code
        finally:
            connections.close_all()
        with lock:
            outcomes[result] += 1

    threads = [threading.Thread(target=approve, args=(application,)) for application in applications]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes == Counter({"approved": 10, "pool_exhausted": 20})
    assert Voucher.objects.filter(campaign=programme.campaign).count() == 10
    programme.campaign.refresh_from_db()
    assert programme.campaign.claimed_fen == programme.campaign.budget_fen == 100_000_00
    statuses = Counter(SubsidyApplication.objects.values_list("status", flat=True))
    assert statuses == Counter({ApplicationStatus.APPROVED: 10, ApplicationStatus.SUBMITTED: 20})


def test_two_ops_deciding_one_application_at_once_decide_it_once() -> None:
    application = apply_for(make_programme())
    ops = [make_ops() for _ in range(8)]
    barrier = threading.Barrier(len(ops))
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def decide(index: int) -> None:
        try:
            barrier.wait()
            subsidy_decide(
                application=application, actor=ops[index], approve=index % 2 == 0, reason="不符合条件"
            )
            result = "decided"
        except DomainError as error:
            result = error.code
        finally:
            connections.close_all()
        with lock:
            outcomes[result] += 1

    threads = [threading.Thread(target=decide, args=(index,)) for index in range(len(ops))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes == Counter({"decided": 1, "already_decided": 7})
    assert Voucher.objects.count() in (0, 1)
