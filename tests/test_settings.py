"""The settings module reads its environment strictly: a bad value stops the start, it is never guessed."""

import importlib.util
import runpy

import pytest
from django.db import connection

from forecourt.config.env import ConfigurationError

SETTINGS_FILE = importlib.util.find_spec("forecourt.config.settings").origin  # type: ignore[union-attr]
SETTINGS_ENV = [
    "DATABASE_URL",
    "DATABASE_CONN_MAX_AGE",
    "DJANGO_SECRET_KEY",
    "DJANGO_DEBUG",
    "FORECOURT_DEMO",
    "FORECOURT_ALLOW_DEV_KEYS",
    "FORECOURT_PHONE_HASH_KEY",
    "FORECOURT_PHONE_ENCRYPTION_KEYS",
]


@pytest.fixture
def load_settings(monkeypatch, tmp_path):
    """Evaluate forecourt.config.settings afresh under the given environment; returns its namespace."""

    def load(**environment: str) -> dict:
        for name in SETTINGS_ENV:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("FORECOURT_VAR_DIR", str(tmp_path))
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        return runpy.run_path(SETTINGS_FILE, run_name="settings_under_test")

    return load


@pytest.mark.parametrize(
    ("name", "value"),
    [("FORECOURT_DEMO", "maybe"), ("DJANGO_DEBUG", "2"), ("DATABASE_CONN_MAX_AGE", "sixty")],
)
def test_a_bad_value_fails_loudly_naming_the_variable(load_settings, name, value):
    with pytest.raises(ConfigurationError, match=name):
        load_settings(DJANGO_SECRET_KEY="s" * 50, **{name: value})


def test_without_a_secret_key_only_demo_or_development_may_start(load_settings):
    with pytest.raises(ConfigurationError, match="DJANGO_SECRET_KEY"):
        load_settings()
    assert load_settings(FORECOURT_DEMO="1")["DEMO_MODE"] is True
    assert load_settings(FORECOURT_ALLOW_DEV_KEYS="yes")["DEMO_MODE"] is False


def test_demo_mode_is_off_unless_asked_for(load_settings):
    assert load_settings(DJANGO_SECRET_KEY="s" * 50)["DEMO_MODE"] is False
    assert load_settings(DJANGO_SECRET_KEY="s" * 50, FORECOURT_DEMO="off")["DEMO_MODE"] is False
    assert load_settings(DJANGO_SECRET_KEY="s" * 50, FORECOURT_DEMO="true")["DEMO_MODE"] is True


def test_development_keys_are_derived_per_purpose_and_explicit_keys_win(load_settings):
    derived = load_settings(FORECOURT_DEMO="1")
    keys = {derived["PHONE_HASH_KEY"], derived["PHONE_ENCRYPTION_KEYS"][0], derived["QR_SIGNING_KEY"]}
    assert len(keys) == 3
    explicit = load_settings(
        DJANGO_SECRET_KEY="s" * 50,
        FORECOURT_PHONE_HASH_KEY="hash-key",
        FORECOURT_PHONE_ENCRYPTION_KEYS="new-key, old-key",
    )
    assert explicit["PHONE_HASH_KEY"] == "hash-key"
    assert explicit["PHONE_ENCRYPTION_KEYS"] == ["new-key", "old-key"]


def test_a_postgres_database_url_is_parsed(load_settings):
    database = load_settings(
        DJANGO_SECRET_KEY="s" * 50, DATABASE_URL="postgres://fc_user:p%40ss@db.internal:5433/forecourt"
    )["DATABASES"]["default"]
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["NAME"], database["USER"], database["PASSWORD"]) == ("forecourt", "fc_user", "p@ss")
    assert (database["HOST"], database["PORT"]) == ("db.internal", 5433)
    assert database["CONN_MAX_AGE"] == 60
    assert database["CONN_HEALTH_CHECKS"] is True


def test_sqlite_is_the_default_with_wal_a_busy_timeout_and_immediate_transactions(load_settings, tmp_path):
    database = load_settings(DJANGO_SECRET_KEY="s" * 50)["DATABASES"]["default"]
    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["NAME"] == str(tmp_path / "forecourt.sqlite3")
    assert "PRAGMA journal_mode=WAL" in database["OPTIONS"]["init_command"]
    assert database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert database["OPTIONS"]["timeout"] >= 5
    assert database["CONN_MAX_AGE"] == 0


@pytest.mark.django_db
def test_the_live_sqlite_connection_is_in_wal_mode():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only: this run is on " + connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
        cursor.execute("PRAGMA foreign_keys")
        assert cursor.fetchone()[0] == 1


def test_production_hashes_passwords_with_argon2(load_settings):
    hashers = load_settings(DJANGO_SECRET_KEY="s" * 50)["PASSWORD_HASHERS"]
    assert hashers[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_every_roles_start_page_and_model_page_include_exists():
    from django.conf import settings
    from django.template.loader import get_template
    from django.urls import reverse

    assert all(reverse(name).startswith("/") for name in settings.ROLE_HOME_URLS.values())
    assert [get_template(name).origin.template_name for name in settings.MODEL_PAGE_INCLUDES] == [
        "leads/_inquiry_form.html"
    ]
