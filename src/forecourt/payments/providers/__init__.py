"""The provider registry: a name → the class that speaks that gateway.

Providers are imported lazily by dotted path so a provider module that fails to import (or is being
written) never breaks the others.
"""

from __future__ import annotations

from importlib import import_module

from forecourt.payments.providers.base import (
    NotificationRejected,
    PaymentStart,
    Provider,
    RefundResult,
    VerifiedNotification,
)

PROVIDER_PATHS: dict[str, str] = {
    "sandbox": "forecourt.payments.providers.sandbox:SandboxProvider",
    "offline": "forecourt.payments.providers.offline:OfflineProvider",
    "alipay": "forecourt.payments.providers.alipay:AlipayProvider",
    "wechatpay": "forecourt.payments.providers.wechatpay:WechatPayProvider",
}


class UnknownProvider(LookupError):
    pass


def provider_get(name: str) -> Provider:
    """The provider registered under ``name``, freshly built so it reads the current settings."""
    try:
        path = PROVIDER_PATHS[name]
    except (KeyError, TypeError):
        raise UnknownProvider(name) from None
    module_path, _, class_name = path.partition(":")
    provider_class = getattr(import_module(module_path), class_name)
    return provider_class()


__all__ = [
    "PROVIDER_PATHS",
    "NotificationRejected",
    "PaymentStart",
    "Provider",
    "RefundResult",
    "UnknownProvider",
    "VerifiedNotification",
    "provider_get",
]
