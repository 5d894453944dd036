import io
import json
import logging
import re
from typing import Any

import pytest
from django.conf import settings
from hypothesis import given
from hypothesis import strategies as st

from forecourt.core.logging import JsonFormatter, RedactPersonalDataFilter, log_context, redact


@pytest.fixture
def json_log():
    """A logger wired like the project's console handler, writing to a buffer; returns (logger, read)."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactPersonalDataFilter())
    logger = logging.getLogger("forecourt.tests.redaction")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False

    def lines():
        return [json.loads(line) for line in buffer.getvalue().splitlines()]

    yield logger, lines, buffer
    logger.removeHandler(handler)


def test_project_logging_uses_the_json_formatter_and_the_redaction_filter():
    config: dict[str, Any] = settings.LOGGING
    assert config["formatters"]["json"]["()"] == "forecourt.core.logging.JsonFormatter"
    assert config["filters"]["redact"]["()"] == "forecourt.core.logging.RedactPersonalDataFilter"
    assert config["handlers"]["console"]["filters"] == ["redact"]


def test_a_phone_number_in_a_log_line_is_redacted(json_log):
    logger, lines, buffer = json_log
    logger.info(
        "sent a code to %s", "13800138000", extra=log_context(lead="ld_7K3M", note="call 138 0013 8000")
    )
    [line] = lines()
    assert line["message"] == "sent a code to [phone]"
    assert line["note"] == "call [phone]"
    assert line["lead"] == "ld_7K3M"
    assert line["level"] == "info"
    assert line["logger"] == "forecourt.tests.redaction"
    assert "0013" not in buffer.getvalue()


def test_a_one_time_code_in_a_log_line_is_redacted(json_log):
    logger, lines, buffer = json_log
    logger.info("code: 123456")
    logger.info("您的验证码是654321，5分钟内有效")
    assert [line["message"] for line in lines()] == ["code: [code]", "您的验证码是[code]，5分钟内有效"]
    assert "123456" not in buffer.getvalue()
    assert "654321" not in buffer.getvalue()


def test_sensitive_structured_fields_are_replaced_whatever_their_value(json_log):
    logger, lines, _buffer = json_log
    logger.info(
        "signed in",
        extra=log_context(
            phone="+8613800138000", code="123456", password="hunter2!", token="abc", attempts=2
        ),
    )
    [line] = lines()
    assert line["phone"] == line["code"] == line["password"] == line["token"] == "[redacted]"
    assert line["attempts"] == 2


def test_numbers_and_nested_values_are_redacted_too(json_log):
    logger, lines, buffer = json_log
    logger.info(
        "import", extra=log_context(contact=13800138000, rows=[{"mobile_no": "13912345678"}], count=12)
    )
    [line] = lines()
    assert line["contact"] == "[phone]"
    assert line["rows"] == [{"mobile_no": "[phone]"}]
    assert line["count"] == 12
    assert "13912345678" not in buffer.getvalue()


def test_an_exception_traceback_is_redacted(json_log):
    logger, lines, buffer = json_log
    try:
        raise ValueError("no account for 13800138000")
    except ValueError:
        logger.exception("lookup failed")
    [line] = lines()
    assert "no account for [phone]" in line["exception"]
    assert "13800138000" not in buffer.getvalue()


@pytest.mark.parametrize(
    "text",
    ["order FC2026112213800138000", "timestamp 1763800138000", "total ¥268,800", "v1.2.3", "ld_7K3M9Q2X"],
)
def test_other_numbers_are_left_alone(text):
    assert redact(text) == text


mainland_mobiles = st.builds(
    lambda second, rest: f"1{second}{rest}",
    st.sampled_from("3456789"),
    st.text(alphabet="0123456789", min_size=9, max_size=9),
)
spellings = st.sampled_from(
    [
        lambda n: n,
        lambda n: f"+86{n}",
        lambda n: f"+86 {n}",
        lambda n: f"0086-{n}",
        lambda n: f"{n[:3]} {n[3:7]} {n[7:]}",
        lambda n: f"{n[:3]}-{n[3:7]}-{n[7:]}",
        lambda n: n.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
    ]
)
# Surrounding text without digits, so any digit left in the output came from the phone number.
surroundings = st.text(st.characters(exclude_categories=("Nd", "Cs")), max_size=20)


@given(surroundings, mainland_mobiles, spellings, surroundings)
def test_no_mainland_mobile_survives_redaction(before, number, spelling, after):
    redacted = redact(f"{before}{spelling(number)}{after}")
    assert number not in re.sub(r"\D", "", redacted)
    assert number[-4:] not in re.sub(r"\D", "", redacted)


@given(
    st.text(alphabet="0123456789", min_size=6, max_size=6),
    st.sampled_from(["code: {}", "验证码：{}", "OTP={}", "Your verification code is {}."]),
)
def test_no_one_time_code_survives_redaction(code, template):
    assert code not in redact(template.format(code))
