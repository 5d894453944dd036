"""Every app's Chinese catalogue is complete for what its code and templates say, and the switch works."""

from __future__ import annotations

import contextlib
import re
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

import forecourt
from forecourt.web.tests.po_catalogue import incomplete_entries, parse_po, read_po

PACKAGE_DIR = Path(forecourt.__file__).resolve().parent
TRANSLATION_IMPORT = re.compile(
    r"^\s*from django\.utils(?:\.translation)? import .*\b(?:translation|gettext|_)\b", re.M
)
TEMPLATE_TAG = re.compile(r"{%\s*(?:translate|trans|blocktranslate|blocktrans)\b")
# Not sources of catalogue strings: tests, migrations, and assets makemessages does not read for "django".
NOT_SCANNED = ("tests", "migrations", "static", "locale", "__pycache__", "management")


def _sources(app_dir: Path, pattern: str) -> list[Path]:
    return [
        path
        for path in app_dir.rglob(pattern)
        if not any(part in NOT_SCANNED for part in path.relative_to(app_dir).parts[:-1])
    ]


def apps_with_messages() -> list[str]:
    """Apps under src/forecourt whose code imports gettext or whose templates use the translation tags."""
    names = []
    for app_dir in sorted(
        path for path in PACKAGE_DIR.iterdir() if path.is_dir() and path.name != "__pycache__"
    ):
        has_gettext = any(
            TRANSLATION_IMPORT.search(path.read_text(encoding="utf-8")) for path in _sources(app_dir, "*.py")
        )
        has_tags = (
            any(
                TEMPLATE_TAG.search(path.read_text(encoding="utf-8"))
                for pattern in ("*.html", "*.txt")
                for path in _sources(app_dir / "templates", pattern)
            )
            if (app_dir / "templates").is_dir()
            else False
        )
        if has_gettext or has_tags:
            names.append(app_dir.name)
    return names


def extract_zh_hans(app_dir: Path, work_dir: Path) -> Path:
    """Run makemessages for zh_Hans on a copy of the app, merging into a copy of its catalogue."""
    copy = work_dir / app_dir.name
    shutil.copytree(
        app_dir,
        copy,
        ignore=shutil.ignore_patterns(
            "__pycache__", "*.pyc", "*.mo", "tests", "migrations", "static", "node_modules"
        ),
    )
    (copy / "locale").mkdir(exist_ok=True)
    # LOCALE_PATHS is emptied so makemessages writes into the copy's own locale/ folder.
    with override_settings(LOCALE_PATHS=[]), contextlib.chdir(copy):
        call_command("makemessages", locale=["zh_Hans"], domain="django", verbosity=0)
    return copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


@pytest.fixture(scope="module")
def gettext_tools() -> None:
    missing = [tool for tool in ("xgettext", "msgmerge", "msguniq") if shutil.which(tool) is None]
    if missing:
        pytest.fail(
            f"GNU gettext is needed to check the catalogues ({', '.join(missing)} missing): "
            "apt-get install gettext"
        )


def test_apps_with_messages_are_found() -> None:
    assert {"web", "catalog", "accounts", "dealers"} <= set(apps_with_messages())


@pytest.mark.parametrize("app", apps_with_messages())
def test_app_has_a_complete_chinese_catalogue(app: str, tmp_path: Path, gettext_tools: None) -> None:
    app_dir = PACKAGE_DIR / app
    committed = app_dir / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    assert committed.is_file(), f"{app} has translatable strings but no {committed.relative_to(PACKAGE_DIR)}"

    merged = read_po(extract_zh_hans(app_dir, tmp_path))

    missing = incomplete_entries(merged)
    assert not missing, (
        f"{app}: {len(missing)} zh_Hans entries are empty, fuzzy or not yet in the catalogue "
        f"(run `make messages` and translate them):\n  "
        + "\n  ".join(entry.label() for entry in missing[:40])
    )


@pytest.mark.parametrize("app", apps_with_messages())
def test_committed_chinese_catalogue_has_no_empty_or_fuzzy_entry(app: str) -> None:
    committed = PACKAGE_DIR / app / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    if not committed.is_file():
        pytest.fail(f"{app} has no zh_Hans catalogue")
    missing = incomplete_entries(read_po(committed))
    assert [entry.label() for entry in missing] == []


def test_po_reader_handles_context_plurals_continuations_fuzzy_and_obsolete_entries() -> None:
    entries = parse_po(
        'msgid ""\nmsgstr ""\n"Language: zh_Hans\\n"\n\n'
        '#: a.py:1\nmsgctxt "navigation"\nmsgid "Models"\nmsgstr "车型"\n\n'
        '#, fuzzy\nmsgid "Old"\nmsgstr "旧"\n\n'
        'msgid ""\n"Two "\n"lines"\nmsgstr ""\n\n'
        'msgid "%(n)s trim"\nmsgid_plural "%(n)s trims"\nmsgstr[0] "%(n)s 款"\n\n'
        '#~ msgid "Gone"\n#~ msgstr ""\n'
    )

    assert [(entry.msgctxt, entry.msgid, entry.msgstrs) for entry in entries] == [
        (None, "", {0: "Language: zh_Hans\n"}),
        ("navigation", "Models", {0: "车型"}),
        (None, "Old", {0: "旧"}),
        (None, "Two lines", {0: ""}),
        (None, "%(n)s trim", {0: "%(n)s 款"}),
    ]
    assert [entry.msgid for entry in incomplete_entries(entries)] == ["Old", "Two lines"]
