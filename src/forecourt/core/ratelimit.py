"""Fixed-window rate limits: one counter row per key and window in `core_ratecounter`, shared by all
workers through the database.

A hit is ONE statement, `INSERT … ON CONFLICT (key) DO UPDATE SET count = count + 1 RETURNING count`
(PostgreSQL, SQLite ≥ 3.35), so concurrent hits never lose a count and never need a read first; several
buckets are counted in one statement by `rate_limits_hit`. Call it outside a long transaction: a hot
counter row stays locked until the caller's transaction ends. Refused hits count too. The key names the
window, so expired rows are never read again; the `sweep` command deletes them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import connections, router
from django.utils.translation import gettext as _

from forecourt.core.clock import SHANGHAI, now
from forecourt.core.errors import RateLimited
from forecourt.core.models import RateCounter

_KEY_MAX = RateCounter._meta.get_field("key").max_length or 255


def _counter_key(bucket: str, key: str, window: int) -> str:
    counter = f"{bucket}:{key}:{window}"
    if len(counter) <= _KEY_MAX:
        return counter
    digest = hashlib.sha256(f"{bucket}:{key}".encode()).hexdigest()
    return f"{bucket[:120]}:#{digest}:{window}"


def _upsert(counters: dict[str, int], expires_at: datetime) -> dict[str, int]:
    """Add `counters` (key → hits) in one statement; the counts after it, by key."""
    alias = router.db_for_write(RateCounter)
    connection = connections[alias]
    quote = connection.ops.quote_name
    table = quote(RateCounter._meta.db_table)
    key, count, expires = (quote(name) for name in ("key", "count", "expires_at"))
    expires_value = connection.ops.adapt_datetimefield_value(expires_at)
    # Sorted keys: two statements lock shared rows in the same order and cannot deadlock each other.
    keys = sorted(counters)
    rows = ", ".join(["(%s, %s, %s)"] * len(keys))
    params: list[Any] = []
    for name in keys:
        params += [name, counters[name], expires_value]
    sql = (
        f"INSERT INTO {table} ({key}, {count}, {expires}) VALUES {rows} "
        f"ON CONFLICT ({key}) DO UPDATE SET {count} = {table}.{count} + EXCLUDED.{count} "
        f"RETURNING {key}, {count}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return dict(cursor.fetchall())


def rate_limits_hit(hits: Iterable[tuple[str, str, int]], *, window_seconds: int) -> None:
    """Count one hit for each (bucket, key, limit) in one statement; raise RateLimited if any of them
    now has more than its limit in the window (every hit is counted, refused or not)."""
    moment = now()
    epoch = int(moment.timestamp())
    window = epoch // window_seconds
    counters: dict[str, int] = {}
    limits: list[tuple[str, int]] = []
    for bucket, key, limit in hits:
        name = _counter_key(bucket, key, window)
        counters[name] = counters.get(name, 0) + 1
        limits.append((name, limit))
    if not counters:
        return
    expires_at = datetime.fromtimestamp((window + 1) * window_seconds, tz=SHANGHAI)
    counts = _upsert(counters, expires_at)
    if any(counts[name] > limit for name, limit in limits):
        retry_after = window_seconds - (epoch % window_seconds)
        raise RateLimited(
            _("Too many attempts. Try again in %(seconds)s seconds.") % {"seconds": retry_after},
            retry_after=retry_after,
        )


def rate_limit_hit(bucket: str, key: str, *, limit: int, window_seconds: int) -> None:
    """Count one hit for `key` in `bucket`; raise RateLimited once more than `limit` fall in the window."""
    rate_limits_hit([(bucket, key, limit)], window_seconds=window_seconds)


def rate_limit_reset(bucket: str, key: str, *, window_seconds: int) -> None:
    """Forget the hits for `key` in `bucket` in the current window."""
    window = int(now().timestamp()) // window_seconds
    RateCounter.objects.filter(key=_counter_key(bucket, key, window)).delete()


def rate_limits_clear() -> None:
    """Forget every counter (tests, or an operator lifting all limits at once)."""
    RateCounter.objects.all().delete()


def rate_counters_purge() -> int:
    """Delete the counters of windows that have ended; returns how many."""
    deleted, _unused = RateCounter.objects.filter(expires_at__lte=now()).delete()
    return deleted
