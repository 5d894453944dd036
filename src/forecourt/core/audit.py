"""The audit trail: who did what, to what, when, from where."""

from typing import Any

from forecourt.core.clock import now
from forecourt.core.middleware import current_ip
from forecourt.core.models import AuditEntry


def audit_record(
    *,
    actor: Any,
    action: str,
    object_type: str = "",
    object_id: str = "",
    details: dict[str, Any] | None = None,
    ip_address: str | None = None,
) -> AuditEntry:
    """Append an audit entry in the caller's transaction; the IP comes from the current request if any."""
    is_user = getattr(actor, "pk", None) is not None
    return AuditEntry.objects.create(
        at=now(),
        actor=actor if is_user else None,
        actor_label=(actor.get_username() if is_user else str(actor or "system"))[:150],
        action=action,
        object_type=object_type,
        object_id=object_id,
        ip_address=ip_address or current_ip(),
        details=details or {},
    )
