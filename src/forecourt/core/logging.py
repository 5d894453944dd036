"""Structured (JSON) logging that never lets a plain phone number or a one-time code through."""

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

# Any run of 11 digits that looks like a mainland mobile, with or without +86.
_PHONE = re.compile(r"(?<!\d)(?:\+?86[\s-]?)?1[3-9]\d{9}(?!\d)")
# Six-digit codes that follow a word such as code / 验证码.
_CODE = re.compile(r"(?i)(code|验证码|otp)([\"':=\s]+)(\d{4,8})")
_SENSITIVE_KEYS = {"phone", "code", "otp", "password", "token", "id_number", "secret"}


def redact(text: str) -> str:
    text = _PHONE.sub("[phone]", text)
    return _CODE.sub(lambda match: f"{match.group(1)}{match.group(2)}[code]", text)


def _redact_value(key: str, value: Any) -> Any:
    if key.lower() in _SENSITIVE_KEYS:
        return "[redacted]"
    if isinstance(value, str):
        return redact(value)
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
