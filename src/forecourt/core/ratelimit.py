"""Fixed-window rate limits kept in the cache (shared by all workers through the database cache)."""

from django.core.cache import cache
from django.utils.translation import gettext as _

from forecourt.core.clock import now
from forecourt.core.errors import RateLimited


def rate_limit_hit(bucket: str, key: str, *, limit: int, window_seconds: int) -> None:
    """Count one hit for `key` in `bucket`; raise RateLimited once more than `limit` fall in the window."""
    epoch = int(now().timestamp())
    window = epoch // window_seconds
    cache_key = f"rl:{bucket}:{key}:{window}"
    cache.add(cache_key, 0, timeout=window_seconds + 5)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # evicted between add and incr
        cache.set(cache_key, 1, timeout=window_seconds + 5)
        count = 1
    if count > limit:
        retry_after = window_seconds - (epoch % window_seconds)
        raise RateLimited(
            _("Too many attempts. Try again in %(seconds)s seconds.") % {"seconds": retry_after},
            retry_after=retry_after,
        )


def rate_limit_reset(bucket: str, key: str, *, window_seconds: int) -> None:
    window = int(now().timestamp()) // window_seconds
    cache.delete(f"rl:{bucket}:{key}:{window}")
