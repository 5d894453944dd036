import threading
from datetime import datetime, timedelta

import pytest
from django.db import connection

from forecourt.core import clock
from forecourt.core.audit import audit_record
from forecourt.core.errors import DomainError
from forecourt.core.idempotency import (
    RETENTION,
    idempotency_records_purge,
    idempotent_call,
    request_fingerprint,
)
from forecourt.core.models import AuditEntry, IdempotencyRecord

pytestmark = pytest.mark.django_db
BODY = {"voucher": "VC7K3M9Q", "dealer": "dl_1"}


def _writing_once(calls):
    def perform():
        calls.append(1)
        entry = audit_record(actor=None, action="voucher.redeemed", object_id=BODY["voucher"])
        return 201, {"redemption": entry.pk, "status": "redeemed"}

    return perform


def test_replay_with_the_same_body_returns_the_first_answer_and_writes_nothing():
    calls: list[int] = []
    first = idempotent_call(scope="voucher.redeem", key="key-1", body=BODY, perform=_writing_once(calls))
    again = idempotent_call(
        scope="voucher.redeem", key="key-1", body=dict(BODY), perform=_writing_once(calls)
    )
    assert first == again
    assert first[0] == 201
    assert calls == [1]
    assert AuditEntry.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1


def test_the_body_fingerprint_ignores_key_order():
    assert request_fingerprint({"a": 1, "b": [1, 2]}) == request_fingerprint({"b": [1, 2], "a": 1})
    assert request_fingerprint({"a": 1}) != request_fingerprint({"a": 2})


def test_a_reused_key_with_a_different_body_is_refused_and_writes_nothing():
    calls: list[int] = []
    idempotent_call(scope="voucher.redeem", key="key-1", body=BODY, perform=_writing_once(calls))
    with pytest.raises(DomainError) as raised:
        idempotent_call(
            scope="voucher.redeem", key="key-1", body={**BODY, "dealer": "dl_2"}, perform=_writing_once(calls)
        )
    assert (raised.value.code, raised.value.status) == ("idempotency_key_reused", 422)
    assert calls == [1]
    assert AuditEntry.objects.count() == 1


def test_the_same_key_in_another_scope_is_independent():
    calls: list[int] = []
    idempotent_call(scope="voucher.redeem", key="key-1", body=BODY, perform=_writing_once(calls))
    idempotent_call(scope="order.place", key="key-1", body=BODY, perform=_writing_once(calls))
    assert calls == [1, 1]
    assert IdempotencyRecord.objects.count() == 2


@pytest.mark.parametrize("key", ["", "k" * 201])
def test_a_missing_or_overlong_key_is_refused_before_anything_runs(key):
    calls: list[int] = []
    with pytest.raises(DomainError) as raised:
        idempotent_call(scope="voucher.redeem", key=key, body=BODY, perform=_writing_once(calls))
    assert (raised.value.code, raised.value.status) == ("invalid", 422)
    assert raised.value.details == {"field": "Idempotency-Key"}
    assert calls == []
    assert IdempotencyRecord.objects.count() == 0


def test_a_failed_call_stores_no_answer_so_a_retry_runs_again():
    def refuses():
        audit_record(actor=None, action="voucher.redeemed", object_id=BODY["voucher"])
        raise DomainError("voucher_expired", "This voucher has expired.", status=409)

    with pytest.raises(DomainError):
        idempotent_call(scope="voucher.redeem", key="key-1", body=BODY, perform=refuses)
    assert IdempotencyRecord.objects.count() == 0
    assert AuditEntry.objects.count() == 0  # the failed attempt's writes were rolled back
    calls: list[int] = []
    assert (
        idempotent_call(scope="voucher.redeem", key="key-1", body=BODY, perform=_writing_once(calls))[0]
        == 201
    )
    assert calls == [1]


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_perform_once_and_get_the_same_answer():
    racers = 4
    barrier = threading.Barrier(racers)
    answers: list[tuple[int, object]] = []
    errors: list[Exception] = []
    calls: list[int] = []

    def call():
        try:
            barrier.wait(timeout=10)
            answers.append(
                idempotent_call(scope="voucher.redeem", key="race", body=BODY, perform=_writing_once(calls))
            )
        except Exception as error:  # surfaced by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=call) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(answers) == racers
    assert all(answer == answers[0] for answer in answers)
    # The key is claimed before the work: duplicates wait for it instead of working and rolling back.
    assert len(calls) == 1
    assert AuditEntry.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1


def test_purge_deletes_only_records_past_the_retention():
    with clock.frozen_at(datetime(2026, 11, 22, 9, 0)):
        idempotent_call(scope="s", key="old", body={}, perform=lambda: (200, {}))
        clock.advance(RETENTION)
        idempotent_call(scope="s", key="new", body={}, perform=lambda: (200, {}))
        assert idempotency_records_purge() == 0
        clock.advance(timedelta(seconds=1))
        assert idempotency_records_purge() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
