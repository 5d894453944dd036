"""`forecourt outbox` prints the newest messages with masked numbers."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from forecourt.accounts.services import sms_send

pytestmark = pytest.mark.django_db


def test_outbox_prints_the_newest_messages_masked():
    sms_send(phone="13800138000", text="第一条", purpose="test")
    sms_send(phone="13900139000", text="第二条", purpose="test")
    out = StringIO()
    call_command("outbox", "--limit", "1", stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert len(lines) == 1
    assert "139****9000" in lines[0] and "第二条" in lines[0]
    assert "13900139000" not in out.getvalue()


def test_outbox_says_when_it_is_empty():
    out = StringIO()
    call_command("outbox", stdout=out)
    assert out.getvalue().strip() == "The outbox is empty."


def test_outbox_refuses_a_limit_below_one():
    with pytest.raises(CommandError):
        call_command("outbox", "--limit", "0")
