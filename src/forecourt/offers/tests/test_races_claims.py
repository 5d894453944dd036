"""PostgreSQL races on claiming: 1,000 people claim at once against a budget of 100 → exactly 100 vouchers;
one person claims 20 times at once against a limit of 2 → exactly 2. Each thread has its own connection."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.db import connections

from forecourt.accounts.models import Role, User
from forecourt.core.errors import DomainError
from forecourt.offers.models import Campaign, ClaimTally, Voucher
from forecourt.offers.services import campaign_claim
from forecourt.offers.tests.factories import make_campaign, make_consumer

POSTGRES = settings.DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql")
pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(not POSTGRES, reason="needs PostgreSQL (set DATABASE_URL=postgres://...)"),
    pytest.mark.django_db(transaction=True),
]

THREADS = 50


def _race(jobs: list[list[Callable[[], Any]]]) -> Counter[str]:
    """Each thread runs its jobs in turn after all threads reach the barrier; outcomes are counted."""
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(len(jobs))

    def run(batch: list[Callable[[], Any]]) -> None:
        try:
            barrier.wait()
            for job in batch:
                try:
                    job()
                    result = "claimed"
                except DomainError as error:
                    result = error.code
                except Exception as error:  # anything else is a bug the assertions will show
                    result = f"error:{type(error).__name__}"
                with lock:
                    outcomes[result] += 1
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(batch,)) for batch in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_a_thousand_claims_against_a_budget_of_a_hundred_give_exactly_a_hundred() -> None:
    campaign = make_campaign(budget_count=100, per_person_limit=1)
    User.objects.bulk_create(
        [User(username=f"rush-{index}", role=Role.CONSUMER, password="!") for index in range(1000)],
        batch_size=500,
    )
    people = list(User.objects.filter(username__startswith="rush-").order_by("pk"))
    per_thread = len(people) // THREADS

    def job(person: User) -> Callable[[], Any]:
        return lambda: campaign_claim(campaign=campaign.public_id, holder=person)

    jobs = [[job(person) for person in people[i * per_thread : (i + 1) * per_thread]] for i in range(THREADS)]
    outcomes = _race(jobs)
    assert outcomes == Counter({"claimed": 100, "budget_exhausted": 900})
    campaign = Campaign.objects.get(pk=campaign.pk)
    assert campaign.claimed_count == 100
    assert Voucher.objects.filter(campaign=campaign).count() == 100
    assert Voucher.objects.filter(campaign=campaign).values("holder").distinct().count() == 100


def test_one_person_claiming_twenty_times_at_once_gets_exactly_the_limit() -> None:
    campaign = make_campaign(budget_count=100, per_person_limit=2)
    person = make_consumer()
    outcomes = _race(
        [[lambda: campaign_claim(campaign=campaign.public_id, holder=person)] for _ in range(20)]
    )
    assert outcomes == Counter({"claimed": 2, "limit_reached": 18})
    assert Voucher.objects.filter(campaign=campaign, holder=person).count() == 2
    assert ClaimTally.objects.get(campaign=campaign, holder=person).claimed == 2
    assert Campaign.objects.get(pk=campaign.pk).claimed_count == 2
