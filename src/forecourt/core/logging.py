"""Structured (JSON) logging that never lets a plain phone number or a one-time code through."""

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

# A mainland mobile however it is spelled: +86 / 0086 / 86 prefix, spaces, dashes or dots between the digits,
# full-width digits (`\d` matches them) — but not a run inside a longer number (an order number, a timestamp).
_PHONE = re.compile(r"(?<!\d)(?:(?:\+|＋|00)?86[\s\-.]?)?[1１][3-9３-９](?:[\s\-.]?\d){9}(?!\d)")
# One-time codes after a word that names them: "code: 123456", "验证码是 123456", "OTP=1234".
_CODE = re.compile(r"(?i)(code|验证码|校验码|动态码|otp)([^\d\n]{0,12}?)(\d{4,8})(?!\d)")
_SENSITIVE_KEYS = {
    "phone", "phone_number", "mobile", "code", "otp", "password", "token", "id_number", "secret",
}  # fmt: skip


def redact(text: str) -> str:
    text = _PHONE.sub("[phone]", text)
    return _CODE.sub(lambda match: f"{match.group(1)}{match.group(2)}[code]", text)


def _redact_value(key: str, value: Any) -> Any:
    if key.lower() in _SENSITIVE_KEYS:
        return "[redacted]"
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, int) and not isinstance(value, bool):
        # A phone number passed as a number is still a phone number.
        return value if redact(str(value)) == str(value) else "[phone]"
    if isinstance(value, dict):
        return {item_key: _redact_value(str(item_key), item) for item_key, item in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_redact_value("", item) for item in value]
    return value


class RedactPersonalDataFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        for key, value in list(record.__dict__.items()):
            if key.startswith("ctx_"):
                record.__dict__[key] = _redact_value(key[4:], value)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        for key, value in record.__dict__.items():
            if key.startswith("ctx_"):
                entry[key[4:]] = _redact_value(key[4:], value)
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


def log_context(**fields: Any) -> dict[str, Any]:
    """`logger.info("...", extra=log_context(lead="ld_x"))` adds structured fields to a line."""
    return {f"ctx_{key}": value for key, value in fields.items()}
