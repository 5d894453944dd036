import threading
from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, connections

from forecourt.core import clock
from forecourt.core.errors import RateLimited
from forecourt.core.models import RateCounter
from forecourt.core.ratelimit import (
    rate_counters_purge,
    rate_limit_hit,
    rate_limit_reset,
    rate_limits_clear,
    rate_limits_hit,
)

ON_THE_MINUTE = datetime(2026, 11, 22, 10, 0, 0)
POSTGRES = settings.DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql")

pytestmark = pytest.mark.django_db


def _counts() -> dict[str, int]:
    return dict(RateCounter.objects.values_list("key", "count"))


def test_hits_up_to_the_limit_pass_and_the_next_is_refused():
    with clock.frozen_at(ON_THE_MINUTE + timedelta(seconds=15)):
        for _ in range(3):
            rate_limit_hit("sms", "+8613800138000", limit=3, window_seconds=60)
        with pytest.raises(RateLimited) as raised:
            rate_limit_hit("sms", "+8613800138000", limit=3, window_seconds=60)
    assert (raised.value.code, raised.value.status) == ("rate_limited", 429)
    # The window ends on the minute: 45 seconds after 10:00:15.
    assert raised.value.retry_after == 45
    assert raised.value.details == {"retry_after": 45}
    assert str(raised.value) == "尝试次数过多，请 45 秒后再试。"


def test_a_hit_is_one_statement_and_refused_hits_count_too(django_assert_num_queries):
    with clock.frozen_at(ON_THE_MINUTE):
        with django_assert_num_queries(1):
            rate_limit_hit("login", "ops_li", limit=1, window_seconds=60)
        for _ in range(2):
            with django_assert_num_queries(1), pytest.raises(RateLimited):
                rate_limit_hit("login", "ops_li", limit=1, window_seconds=60)
    window = int(ON_THE_MINUTE.replace(tzinfo=clock.SHANGHAI).timestamp()) // 60
    counter = RateCounter.objects.get()
    assert (counter.key, counter.count) == (f"login:ops_li:{window}", 3)
    assert counter.expires_at == ON_THE_MINUTE.replace(tzinfo=clock.SHANGHAI) + timedelta(seconds=60)


def test_several_buckets_are_counted_in_one_statement(django_assert_num_queries):
    hits = [("staff", "7", 3), ("place", "dealer:1", 2), ("ip", "10.0.0.1", 5)]
    with clock.frozen_at(ON_THE_MINUTE):
        for _ in range(2):
            with django_assert_num_queries(1):
                rate_limits_hit(hits, window_seconds=60)
        # The place's limit (2) is passed first; every bucket still counts the refused hit.
        with django_assert_num_queries(1), pytest.raises(RateLimited) as raised:
            rate_limits_hit(hits, window_seconds=60)
    assert raised.value.retry_after == 60
    assert sorted(count for count in _counts().values()) == [3, 3, 3]


def test_no_hits_touch_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        rate_limits_hit([], window_seconds=60)
    assert RateCounter.objects.count() == 0


def test_the_same_counter_twice_in_one_call_counts_twice():
    with clock.frozen_at(ON_THE_MINUTE), pytest.raises(RateLimited):
        rate_limits_hit([("b", "k", 1), ("b", "k", 1)], window_seconds=60)
    assert list(_counts().values()) == [2]


def test_a_new_window_starts_afresh():
    with clock.frozen_at(ON_THE_MINUTE):
        for _ in range(2):
            rate_limit_hit("login", "ops_li", limit=2, window_seconds=60)
        with pytest.raises(RateLimited):
            rate_limit_hit("login", "ops_li", limit=2, window_seconds=60)
        clock.advance(timedelta(seconds=60))
        rate_limit_hit("login", "ops_li", limit=2, window_seconds=60)
    assert sorted(_counts().values()) == [1, 3]


def test_keys_and_buckets_are_counted_apart():
    with clock.frozen_at(ON_THE_MINUTE):
        rate_limit_hit("sms", "a", limit=1, window_seconds=60)
        rate_limit_hit("sms", "b", limit=1, window_seconds=60)
        rate_limit_hit("login", "a", limit=1, window_seconds=60)
        with pytest.raises(RateLimited):
            rate_limit_hit("sms", "a", limit=1, window_seconds=60)


def test_a_long_key_is_kept_as_a_digest_and_still_counted():
    long_key = "x" * 400
    with clock.frozen_at(ON_THE_MINUTE):
        rate_limit_hit("bucket", long_key, limit=1, window_seconds=60)
        rate_limit_hit("bucket", long_key[:-1] + "y", limit=1, window_seconds=60)
        with pytest.raises(RateLimited):
            rate_limit_hit("bucket", long_key, limit=1, window_seconds=60)
    keys = list(_counts())
    assert len(keys) == 2
    assert all(len(key) <= 255 and long_key not in key for key in keys)


def test_reset_clears_the_current_window():
    with clock.frozen_at(ON_THE_MINUTE):
        rate_limit_hit("login", "ops_li", limit=1, window_seconds=60)
        rate_limit_hit("login", "other", limit=1, window_seconds=60)
        rate_limit_reset("login", "ops_li", window_seconds=60)
        rate_limit_hit("login", "ops_li", limit=1, window_seconds=60)
        with pytest.raises(RateLimited):
            rate_limit_hit("login", "ops_li", limit=1, window_seconds=60)
        with pytest.raises(RateLimited):
            rate_limit_hit("login", "other", limit=1, window_seconds=60)


def test_clear_forgets_every_counter():
    with clock.frozen_at(ON_THE_MINUTE):
        rate_limit_hit("a", "1", limit=1, window_seconds=60)
        rate_limit_hit("b", "2", limit=1, window_seconds=3600)
        rate_limits_clear()
        rate_limit_hit("a", "1", limit=1, window_seconds=60)
        rate_limit_hit("b", "2", limit=1, window_seconds=3600)
    assert sorted(_counts().values()) == [1, 1]


def test_a_day_long_window_reports_the_seconds_left():
    with clock.frozen_at(ON_THE_MINUTE):
        rate_limit_hit("sms-day", "k", limit=1, window_seconds=86_400)
        with pytest.raises(RateLimited) as raised:
            rate_limit_hit("sms-day", "k", limit=1, window_seconds=86_400)
    moment = ON_THE_MINUTE.replace(tzinfo=clock.SHANGHAI)
    assert raised.value.retry_after == 86_400 - int(moment.timestamp()) % 86_400


def test_counters_of_ended_windows_are_purged_and_current_ones_kept():
    with clock.frozen_at(ON_THE_MINUTE):
        rate_limit_hit("minute", "k", limit=5, window_seconds=60)
        rate_limit_hit("hour", "k", limit=5, window_seconds=3600)
        assert rate_counters_purge() == 0
        clock.advance(timedelta(seconds=59))
        assert rate_counters_purge() == 0
        clock.advance(timedelta(seconds=1))
        assert rate_counters_purge() == 1
        assert [key.split(":")[0] for key in _counts()] == ["hour"]


def test_the_sweep_command_purges_ended_windows(capsys):
    with clock.frozen_at(ON_THE_MINUTE):
        rate_limit_hit("minute", "k", limit=5, window_seconds=60)
        clock.advance(timedelta(minutes=2))
        call_command("sweep", verbosity=2)
    assert "Purged 1 expired rate-limit counter(s).\n" in capsys.readouterr().out
    assert RateCounter.objects.count() == 0


@pytest.mark.postgres_only
@pytest.mark.skipif(not POSTGRES, reason="needs PostgreSQL (set DATABASE_URL=postgres://...)")
@pytest.mark.django_db(transaction=True)
def test_concurrent_hits_let_exactly_the_limit_through():
    threads_count, limit = 24, 7
    barrier = threading.Barrier(threads_count)
    allowed: list[int] = []
    refused: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    hits = [("race-staff", "7", limit), ("race-place", "dealer:1", 1_000)]

    def hit(number: int) -> None:
        try:
            connection.ensure_connection()
            barrier.wait(timeout=30)
            try:
                rate_limits_hit(hits, window_seconds=3600)
            except RateLimited:
                with lock:
                    refused.append(number)
            else:
                with lock:
                    allowed.append(number)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    with clock.frozen_at(ON_THE_MINUTE):
        workers = [threading.Thread(target=hit, args=(number,)) for number in range(threads_count)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)
    assert errors == []
    assert (len(allowed), len(refused)) == (limit, threads_count - limit)
    assert sorted(_counts().values()) == [threads_count, threads_count]
