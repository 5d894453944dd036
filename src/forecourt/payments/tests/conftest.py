"""The cast for payments tests: a payer, dealer staff, operations, and helpers that create an intent
and build sandbox notifications signed (or forged) the way the sandbox gateway signs them."""

from __future__ import annotations

import contextlib
import fcntl
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, connections
from django.test import override_settings

from forecourt.accounts.models import Role, User
from forecourt.accounts.tests.factories import make_dealer, make_user
from forecourt.core import events
from forecourt.core.errors import DomainError
from forecourt.core.models import Event
from forecourt.core.money import Money
from forecourt.payments.models import LedgerEntry, PaymentIntent, PaymentNotification, Refund
from forecourt.payments.providers.sandbox import sandbox_notification_build
from forecourt.payments.services import (
    NotificationOutcome,
    payment_intent_create,
    payment_notification_receive,
    payment_offline_record,
)

DEPOSIT = Money(5_000_00)
APP_DIR = Path(__file__).resolve().parent.parent


def _catalogue_stale() -> bool:
    po = APP_DIR / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    mo = po.with_suffix(".mo")
    return not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime


@pytest.fixture(scope="session")
def payments_catalogue() -> Iterator[None]:
    """Compile this app's catalogue when `make setup` has not (the .mo files are not committed)."""
    if _catalogue_stale():
        # pytest-xdist workers may all find it stale: one compiles while the others wait.
        with (Path(tempfile.gettempdir()) / "forecourt-payments-messages.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if _catalogue_stale():
                with contextlib.chdir(APP_DIR):
                    call_command("compilemessages", verbosity=0)
        # Changing LOCALE_PATHS (even to itself) makes Django drop the catalogues it has already loaded.
        with override_settings(LOCALE_PATHS=list(settings.LOCALE_PATHS)):
            pass
    yield


@pytest.fixture
def payer(db) -> User:
    return make_user(username="payer", role=Role.CONSUMER, display_name="张伟")


@pytest.fixture
def other_payer(db) -> User:
    return make_user(username="other-payer", role=Role.CONSUMER, display_name="李娜")


@pytest.fixture
def advisor(db) -> User:
    return make_user(username="advisor", role=Role.SALES_ADVISOR, dealer=make_dealer(), display_name="王芳")


@pytest.fixture
def ops(db) -> User:
    return make_user(username="ops", role=Role.OPS, display_name="运营")


@pytest.fixture
def create_intent(payer) -> Callable[..., PaymentIntent]:
    """An intent through the service, with a deposit's defaults; keyword arguments override them."""
    counter = {"n": 0}

    def _create(**overrides: Any) -> PaymentIntent:
        counter["n"] += 1
        arguments: dict[str, Any] = {
            "purpose": "order.deposit",
            "reference": "FO7K3M9Q2X4T8V",
            "amount": DEPOSIT,
            "payer": payer,
            "provider": "sandbox",
            "description": "极光 Aurora 定金",
            "idempotency_key": f"test-intent-{counter['n']}",
        }
        arguments.update(overrides)
        return payment_intent_create(**arguments)

    return _create


@pytest.fixture
def record_offline(payer, advisor) -> Callable[..., PaymentIntent]:
    """A store payment recorded by the advisor through the service; keyword arguments override defaults."""

    def _record(**overrides: Any) -> PaymentIntent:
        arguments: dict[str, Any] = {
            "purpose": "order.final",
            "reference": "FO1",
            "amount": Money(100_00),
            "payer": payer,
            "actor": advisor,
            "receipt_number": "R-1",
            "idempotency_key": "store-1",
        }
        arguments.update(overrides)
        return payment_offline_record(**arguments)

    return _record


@pytest.fixture
def intent(create_intent) -> PaymentIntent:
    return create_intent()


def sandbox_notification(
    intent: PaymentIntent, *, status: str = "succeeded", notification_id: str | None = None, **overrides: Any
) -> tuple[dict[str, str], bytes]:
    """Headers and body of a genuine sandbox notification for `intent` (overrides change fields)."""
    fields: dict[str, Any] = {
        "notification_id": notification_id or f"SBN{intent.out_trade_no}{status.upper()}",
        "out_trade_no": intent.out_trade_no,
        "trade_no": f"SBX{intent.out_trade_no}",
        "amount_fen": intent.amount_fen,
        "status": status,
    }
    fields.update(overrides)
    return sandbox_notification_build(**fields)


def receive(headers: dict[str, str], body: bytes, *, provider: str = "sandbox") -> NotificationOutcome:
    return payment_notification_receive(provider=provider, headers=headers, body=body, ip="203.0.113.7")


def money_state() -> dict[str, Any]:
    """Everything a notification or refund could change, to assert that nothing did."""
    return {
        "intents": list(
            PaymentIntent.objects.order_by("pk").values_list(
                "pk", "status", "paid_at", "refunded_fen", "refunding_fen"
            )
        ),
        "ledger": LedgerEntry.objects.count(),
        "refunds": list(Refund.objects.order_by("pk").values_list("pk", "status")),
        "events": list(Event.objects.filter(name__startswith="payment.").values_list("name", flat=True)),
        "accepted": PaymentNotification.objects.filter(outcome="accepted").count(),
    }


@pytest.fixture
def fake_gateway(monkeypatch):
    """Make "alipay" a scripted stand-in (FakeGateway) for this test."""
    from forecourt.payments.providers import PROVIDER_PATHS

    from .fake_gateway import FakeGateway

    monkeypatch.setitem(PROVIDER_PATHS, "alipay", "forecourt.payments.tests.fake_gateway:FakeGateway")
    monkeypatch.setattr(FakeGateway, "refund_answer", "pending")
    monkeypatch.setattr(FakeGateway, "query_answer", None)
    monkeypatch.setattr(FakeGateway, "calls", [])
    return FakeGateway


@pytest.fixture
def paid(intent) -> PaymentIntent:
    """The deposit intent, paid through a genuine sandbox notification."""
    assert receive(*sandbox_notification(intent)).accepted
    intent.refresh_from_db()
    return intent


@pytest.fixture
def paid_at_gateway(create_intent, fake_gateway) -> PaymentIntent:
    """An "alipay" intent (the fake gateway) credited as if its notification had arrived."""
    from forecourt.payments.providers import VerifiedNotification
    from forecourt.payments.services.notifications import notification_apply

    intent = create_intent(provider="alipay", idempotency_key="gateway-intent")
    notification_apply(
        gateway=fake_gateway(),
        verified=VerifiedNotification(
            notification_id="N1",
            out_trade_no=intent.out_trade_no,
            provider_trade_no="2026112222001",
            amount_fen=intent.amount_fen,
            status="succeeded",
            raw={},
        ),
    )
    intent.refresh_from_db()
    assert intent.status == "succeeded"
    return intent


@pytest.fixture
def postgres_race(monkeypatch) -> None:
    """Skip unless on PostgreSQL (row locks, concurrent transactions); silence other apps' subscribers."""
    if connection.vendor != "postgresql":
        pytest.skip(
            "needs PostgreSQL: row locks and concurrent transactions (set DATABASE_URL=postgres://...)"
        )
    # Only payments here: other apps' subscribers (orders) would react to these test payments.
    monkeypatch.setattr(events, "_subscribers", {})


def race(count: int, work: Callable[[int], Any]) -> Counter[str]:
    """Run `work(index)` in `count` threads released together, each on its own database connection;
    count the outcomes (a returned string, "ok" for anything else, a DomainError's code, or a crash)."""
    barrier = threading.Barrier(count)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            result = work(index)
            outcome = str(result) if isinstance(result, str) else "ok"
        except DomainError as error:
            outcome = error.code
        except Exception as error:
            outcome = f"crash: {type(error).__name__}: {error}"
        finally:
            # Each thread has its own connection; close it so the test database can be dropped.
            connections.close_all()
        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def two_at_once(deliver: Callable[[], str]) -> Counter[str]:
    """Run ``deliver()`` in two threads released together, each on its own database connection."""
    return race(2, lambda _index: deliver())
