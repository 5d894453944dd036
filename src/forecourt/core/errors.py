"""One exception type for expected failures; the API layer maps it to a JSON error response."""

from enum import StrEnum
from typing import Any


class CoreErrorCode(StrEnum):
    NOT_FOUND = "not_found"
    INVALID = "invalid"
    INVALID_PHONE = "invalid_phone"
    NOT_AUTHENTICATED = "not_authenticated"
    FORBIDDEN = "forbidden"
    RATE_LIMITED = "rate_limited"
    CONFLICT = "conflict"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"


class DomainError(Exception):
    """An expected failure with a stable code, a message for people and an HTTP status for the API."""

    def __init__(self, code: str, message: str, *, status: int = 400, details: Any = None) -> None:
        super().__init__(message)
        self.code = str(code)
        self.message = str(message)
        self.status = status
        self.details = details

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class NotFound(DomainError):
    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(CoreErrorCode.NOT_FOUND, message, status=404, details=details)


class RateLimited(DomainError):
    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(
            CoreErrorCode.RATE_LIMITED, message, status=429, details={"retry_after": retry_after}
        )
        self.retry_after = retry_after


def field_error(code: str, field: str, message: str, *, status: int = 422) -> DomainError:
    """A 422 naming the offending field, in the shape the API uses for validation errors."""
    return DomainError(code, message, status=status, details=[{"field": field, "message": message}])
