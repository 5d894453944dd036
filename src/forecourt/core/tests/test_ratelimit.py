from datetime import datetime, timedelta

import pytest
from django.core.cache import cache

from forecourt.core import clock
from forecourt.core.errors import RateLimited
from forecourt.core.ratelimit import rate_limit_hit, rate_limit_reset

ON_THE_MINUTE = datetime(2026, 11, 22, 10, 0, 0)


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


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


def test_a_new_window_starts_afresh():
    with clock.frozen_at(ON_THE_MINUTE):
        for _ in range(2):
            rate_limit_hit("login", "ops_li", limit=2, window_seconds=60)
        with pytest.raises(RateLimited):
            rate_limit_hit("login", "ops_li", limit=2, window_seconds=60)
        clock.advance(timedelta(seconds=60))
        rate_limit_hit("login", "ops_li", limit=2, window_seconds=60)


def test_keys_and_buckets_are_counted_apart():
    with clock.frozen_at(ON_THE_MINUTE):
        rate_limit_hit("sms", "a", limit=1, window_seconds=60)
        rate_limit_hit("sms", "b", limit=1, window_seconds=60)
        rate_limit_hit("login", "a", limit=1, window_seconds=60)
        with pytest.raises(RateLimited):
            rate_limit_hit("sms", "a", limit=1, window_seconds=60)


def test_reset_clears_the_current_window():
    with clock.frozen_at(ON_THE_MINUTE):
        rate_limit_hit("login", "ops_li", limit=1, window_seconds=60)
        rate_limit_reset("login", "ops_li", window_seconds=60)
        rate_limit_hit("login", "ops_li", limit=1, window_seconds=60)
        with pytest.raises(RateLimited):
            rate_limit_hit("login", "ops_li", limit=1, window_seconds=60)


def test_a_day_long_window_reports_the_seconds_left():
    with clock.frozen_at(ON_THE_MINUTE):
        rate_limit_hit("sms-day", "k", limit=1, window_seconds=86_400)
        with pytest.raises(RateLimited) as raised:
            rate_limit_hit("sms-day", "k", limit=1, window_seconds=86_400)
    moment = ON_THE_MINUTE.replace(tzinfo=clock.SHANGHAI)
    assert raised.value.retry_after == 86_400 - int(moment.timestamp()) % 86_400
