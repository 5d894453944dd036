"""Every catalogue in the repository is one Django reads (src/forecourt/web/tests checks their contents).

Django finds translations in each installed app's locale/ folder and in LOCALE_PATHS; a catalogue
anywhere else (config is not an app) is silently ignored and its strings stay in English.
"""

from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings

PACKAGE_DIR = Path(__file__).resolve().parent.parent / "src" / "forecourt"
CATALOGUE_DIRS = sorted(path.parent for path in PACKAGE_DIR.glob("*/locale/zh_Hans")) + sorted(
    path.parent for path in PACKAGE_DIR.glob("locale/zh_Hans")
)


def _read_by_django() -> set[Path]:
    app_locales = {(Path(config.path) / "locale").resolve() for config in apps.get_app_configs()}
    return app_locales | {Path(path).resolve() for path in settings.LOCALE_PATHS}


@pytest.mark.parametrize("locale_dir", CATALOGUE_DIRS, ids=lambda path: path.parent.name)
def test_every_catalogue_is_read_by_django(locale_dir):
    assert locale_dir.resolve() in _read_by_django(), (
        f"{locale_dir.relative_to(PACKAGE_DIR.parent.parent)} is not read by Django: "
        "install its app, or add the folder to LOCALE_PATHS in config/settings.py"
    )


def test_every_app_with_a_catalogue_has_both_languages():
    for locale_dir in CATALOGUE_DIRS:
        for language in ("zh_Hans", "en"):
            assert (locale_dir / language / "LC_MESSAGES" / "django.po").exists(), (locale_dir, language)
