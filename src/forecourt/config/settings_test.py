"""Test settings: only what makes the suite faster or deterministic."""

import os

os.environ.setdefault("FORECOURT_ALLOW_DEV_KEYS", "1")

from forecourt.config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Subscribers run right after commit in tests, so a test sees the whole reaction to an event.
TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default"]}}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
WHITENOISE_AUTOREFRESH = True
# Pages are rendered fresh in tests; the page cache has its own tests that switch it on.
PAGE_CACHE_SECONDS = 0
