"""The Chinese catalogue is complete, and the sign-in text message reads as Chinese users expect."""

import ast
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import translation

from forecourt.accounts.models import OutboxMessage
from forecourt.accounts.services import sms_code_request
from forecourt.accounts.tests.conftest import PHONE, latest_code

LOCALE = Path(__file__).resolve().parent.parent / "locale"
ZH_PO = LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po"
SMS_SOURCE = (
    "[Forecourt] Your sign-in code is %(code)s. It is valid for 5 minutes. Do not share it with anyone."
)


def _entries(path: Path) -> dict[str, str]:
    """msgid → first msgstr, for the live (non-obsolete) entries; fuzzy ones are marked with a prefix."""
    entries: dict[str, str] = {}
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        fields: dict[str, str] = {}
        current = ""
        fuzzy = False
        for line in block.splitlines():
            if line.startswith("#,") and "fuzzy" in line:
                fuzzy = True
            if line.startswith("#"):
                continue
            if line.startswith('"'):
                fields[current] += ast.literal_eval(line)
            else:
                current, _space, rest = line.partition(" ")
                fields[current] = ast.literal_eval(rest)
        if fields.get("msgid"):
            text = fields.get("msgstr", fields.get("msgstr[0]", ""))
            entries[fields["msgid"]] = ("FUZZY:" if fuzzy else "") + text
    return entries


def test_every_chinese_entry_is_translated():
    entries = _entries(ZH_PO)
    assert len(entries) > 100
    assert [msgid for msgid, text in entries.items() if not text.strip() or text.startswith("FUZZY:")] == []


def test_the_sign_in_message_has_its_chinese_wording():
    assert (
        _entries(ZH_PO)[SMS_SOURCE] == "【Forecourt】您的登录验证码为 %(code)s，5分钟内有效。请勿泄露给他人。"
    )


@pytest.fixture
def compiled_accounts_catalogue():
    if shutil.which("msgfmt") is None:
        pytest.skip("GNU gettext (msgfmt) is not installed")
    mo = ZH_PO.with_suffix(".mo")
    if not mo.exists() or mo.stat().st_mtime < ZH_PO.stat().st_mtime:
        # Written beside and renamed into place, so a parallel test process never reads half a file.
        partial = mo.with_name(f"django.{os.getpid()}.mo")
        subprocess.run(["msgfmt", "--check", "-o", str(partial), str(ZH_PO)], check=True)
        partial.replace(mo)
    # Changing LOCALE_PATHS (even to itself) makes Django drop the catalogues it has already loaded.
    with override_settings(LOCALE_PATHS=list(settings.LOCALE_PATHS)):
        pass


@pytest.mark.django_db
def test_the_code_is_texted_in_chinese_by_default(compiled_accounts_catalogue):
    with translation.override("zh-hans"):
        sms_code_request(phone=PHONE, ip="127.0.0.1")
    code = latest_code()
    assert (
        OutboxMessage.objects.get().text
        == f"【Forecourt】您的登录验证码为 {code}，5分钟内有效。请勿泄露给他人。"
    )
