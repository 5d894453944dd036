"""Twenty inquiries from one phone at the same moment make one lead with twenty touchpoints.

On PostgreSQL the partial unique index makes the losers of the race fail their insert, re-read and
join; on SQLite the immediate transactions queue the writers so each sees the one before.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from forecourt.accounts.models import User
from forecourt.core.models import Event
from forecourt.leads.models import Lead, Touchpoint
from forecourt.leads.services import lead_capture

INQUIRIES = 20


def _race(count: int) -> tuple[list[tuple[str, bool]], list[BaseException]]:
    barrier = threading.Barrier(count)
    results: list[tuple[str, bool]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def inquire(n: int) -> None:
        try:
            barrier.wait(timeout=30)
            lead, created = lead_capture(
                name="张伟",
                phone="13800138000",
                city_code="shanghai",
                model_code="aurora",
                channel="web_price_inquiry" if n % 2 else "live_stream",
                campaign=f"wave-{n}",
                share_with_dealer=True,
            )
            with lock:
                results.append((lead.public_id, created))
        except BaseException as exc:
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=inquire, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results, errors


def _assert_one_lead(results: list[tuple[str, bool]], errors: list[BaseException], dealer: Any) -> None:
    assert errors == []
    assert len(results) == INQUIRIES
    assert len({public_id for public_id, _created in results}) == 1
    assert sum(created for _id, created in results) == 1
    lead = Lead.objects.get()
    assert lead.dealer_id == dealer.pk
    assert lead.touch_count == INQUIRIES
    assert Touchpoint.objects.filter(lead=lead).count() == INQUIRIES
    assert sorted(Touchpoint.objects.values_list("campaign", flat=True)) == sorted(
        f"wave-{n}" for n in range(20)
    )
    assert User.objects.filter(role="consumer").count() == 1
    assert Event.objects.filter(name="lead.created").count() == 1
    assert Event.objects.filter(name="lead.touchpoint_added").count() == INQUIRIES - 1


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_inquiries_make_one_lead_on_postgresql(model, dealer):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL=postgres://...)")
    results, errors = _race(INQUIRIES)
    _assert_one_lead(results, errors, dealer)


@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_inquiries_make_one_lead_on_sqlite(model, dealer):
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite variant of the PostgreSQL race test")
    results, errors = _race(INQUIRIES)
    _assert_one_lead(results, errors, dealer)
