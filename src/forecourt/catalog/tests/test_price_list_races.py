"""Publishing under contention, on PostgreSQL: two publishers queue on the lock, never both win."""

import threading

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from forecourt.catalog.models import PriceList, PriceListStatus
from forecourt.catalog.services import price_list_publish
from forecourt.catalog.tests.factories import build_catalogue, draft_with_changes

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("row locks are only observable on PostgreSQL")


def test_two_simultaneous_publishes_queue_and_leave_one_list_in_effect():
    catalogue = build_catalogue()
    drafts = [draft_with_changes(catalogue, version=version, changes={}) for version in (2, 3)]
    barrier = threading.Barrier(len(drafts))
    failures: list[BaseException] = []

    def publish(draft: PriceList) -> None:
        try:
            PriceList.objects.exists()  # connect first, so both reach the lock together
            barrier.wait()
            price_list_publish(price_list=draft, actor=None)
        except BaseException as error:
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=publish, args=(draft,)) for draft in drafts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    lists = list(PriceList.objects.order_by("effective_from", "version"))
    assert [row.status for row in lists] == [
        PriceListStatus.RETIRED,
        PriceListStatus.RETIRED,
        PriceListStatus.PUBLISHED,
    ]
    # An unbroken chain: each list ends exactly when the next one starts.
    assert [row.effective_to for row in lists[:-1]] == [row.effective_from for row in lists[1:]]


def test_the_lock_is_taken_before_anything_is_written():
    catalogue = build_catalogue()
    draft = draft_with_changes(catalogue, version=2, changes={})

    with CaptureQueriesContext(connection) as queries:
        price_list_publish(price_list=draft, actor=None)

    statements = [query["sql"].upper() for query in queries]
    first_lock = next(index for index, sql in enumerate(statements) if "FOR UPDATE" in sql)
    first_write = next(index for index, sql in enumerate(statements) if sql.startswith(("UPDATE", "INSERT")))
    assert first_lock < first_write
