"""Fixtures for the web app's tests: compiled catalogues, so pages really render in Chinese and English."""

from __future__ import annotations

import contextlib
import fcntl
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

import forecourt

PACKAGE_DIR = Path(forecourt.__file__).resolve().parent


def _stale_catalogues() -> list[Path]:
    stale = []
    for po in PACKAGE_DIR.glob("*/locale/*/LC_MESSAGES/django.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            stale.append(po)
    return stale


@pytest.fixture(scope="session")
def compiled_catalogues() -> Iterator[None]:
    """Compile the .po catalogues when `make setup` has not (the .mo files are not committed)."""
    if _stale_catalogues():
        lock_path = Path(tempfile.gettempdir()) / "forecourt-compilemessages.lock"
        # pytest-xdist workers may all find stale catalogues: one compiles while the others wait.
        with lock_path.open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if _stale_catalogues():
                with contextlib.chdir(PACKAGE_DIR):
                    call_command("compilemessages", verbosity=0)
            fcntl.flock(lock, fcntl.LOCK_UN)
        # Changing LOCALE_PATHS (even to itself) makes Django drop the catalogues it has already loaded.
        with override_settings(LOCALE_PATHS=list(settings.LOCALE_PATHS)):
            pass
    yield
