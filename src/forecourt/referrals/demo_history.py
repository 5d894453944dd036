"""The referrals demo's history: a timeline of steps, each done through the services at its own moment in
the past (the clock set back), with the events it records delivered at once, as the worker would.

`Seeder` holds the plan (`refer`, `qualify`, `order`, `deliver`, `lose`, `journey`, or any action with
`at`) and `run()` plays it in time order; demo_data.py writes the story.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings

from forecourt.accounts.models import Role, User
from forecourt.accounts.services import consumer_get_or_create_by_phone
from forecourt.core import clock
from forecourt.core.demo_people import demo_mobile, demo_name
from forecourt.core.errors import DomainError
from forecourt.core.events import events_deliver_now
from forecourt.core.identifiers import public_id
from forecourt.core.phones import normalise_mainland_mobile, phone_hash
from forecourt.dealers.models import City
from forecourt.leads.models import Lead
from forecourt.orders.models import Order, new_order_number
from forecourt.referrals.models import Broker, Referral, Stage, Task, TaskGoal
from forecourt.referrals.periods import month_bounds, month_first
from forecourt.referrals.services import (
    TaskResult,
    broker_enrol,
    referral_deliver,
    referral_lose,
    referral_order,
    referral_qualify,
    referrals_convert_due,
    task_accept,
    task_create,
    task_results_record,
)

# China Mobile and China Unicom mobile-network address blocks.
IP_PREFIXES = ["223.104", "117.136", "112.97", "39.144", "120.229"]


@dataclass
class Seeder:
    rng: random.Random
    today: datetime
    ops: User
    models: list[str]
    cities: dict[str, City]
    friends: list[tuple[User, str, str, City | None]] = field(default_factory=list)
    steps: list[tuple[datetime, int, Callable[[], None]]] = field(default_factory=list)
    delivered: set[Any] = field(default_factory=set)
    referrals: dict[str, Referral] = field(default_factory=dict)
    tasks: dict[str, Task] = field(default_factory=dict)
    counter: int = 0

    # --- the timeline ---------------------------------------------------------------------------------

    def at(self, moment: datetime, action: Callable[[], None]) -> None:
        """Do `action` at `moment` (if it is not in the future): steps run in time order."""
        if moment <= self.today:
            self.counter += 1
            self.steps.append((moment, self.counter, action))

    def run(self) -> None:
        for moment, _order, action in sorted(self.steps, key=lambda step: (step[0], step[1])):
            with clock.frozen_at(moment):
                action()
                self.settle()

    def settle(self) -> None:
        """Run the subscribers of the events recorded at this moment, as the worker would after commit."""
        events_deliver_now(delivered=self.delivered)

    # --- tasks ------------------------------------------------------------------------------------------

    def publish(self, key: str, moment: datetime, **fields: Any) -> None:
        """Ops publish a task at `moment` (`fields` as task_create takes them)."""

        def action() -> None:
            self.tasks[key] = task_create(actor=self.ops, **fields)

        self.at(moment, action)

    def accept(self, key: str, broker: Broker, moment: datetime) -> None:
        def action() -> None:
            task_accept(task=self.tasks[key], broker=broker)

        self.at(moment, action)

    # --- people and referrals -------------------------------------------------------------------------

    def device(self) -> str:
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(24))

    def ip(self) -> str:
        return f"{self.rng.choice(IP_PREFIXES)}.{self.rng.randint(1, 254)}.{self.rng.randint(1, 254)}"

    def friend(self, city: City | None) -> tuple[User, str, str, City | None]:
        """A person to refer: the next demo lead's person (with that lead, from the broker's city if one is
        left), else a new consumer."""
        for index, candidate in enumerate(self.friends):
            if city is None or candidate[3] == city:
                return self.friends.pop(index)
        if self.friends:
            return self.friends.pop(0)
        while True:
            phone = demo_mobile(self.rng)
            if not User.objects.filter(phone_hash=phone_hash(normalise_mainland_mobile(phone))).exists():
                person = consumer_get_or_create_by_phone(phone=phone, display_name=demo_name(self.rng))
                return person, public_id("led"), "", None

    def refer(
        self,
        key: str,
        broker: Broker,
        moment: datetime,
        *,
        model: str | None = None,
        person: User | None = None,
        device: str | None = None,
        ip: str | None = None,
        stage: str = Stage.REFERRED,
        rejection: str = "",
        flags: list[dict[str, Any]] | None = None,
        local: bool = False,
    ) -> None:
        """A friend arrives through the broker's link (written as history: the lead already exists).

        `local`: the friend lives in the broker's city (a city task counts them there)."""

        def action() -> None:
            friend, lead_id, lead_model, city = self.friend(broker.city)
            chosen = person or friend
            referral = Referral.objects.create(
                broker=broker,
                person=chosen,
                lead_public_id=lead_id if person is None else public_id("led"),
                model_code=model or lead_model or self.rng.choice(self.models),
                campaign=self.rng.choice(["", "", "wechat-moments", "poster"]),
                city=broker.city if local or city is None else city,
                stage=stage,
                rejection=rejection,
                flags=flags or [],
                device=device or self.device(),
                ip=ip or self.ip(),
                clicked_at=moment - timedelta(hours=self.rng.randint(1, 48)),
                referred_at=moment,
                updated_at=moment,
            )
            self.referrals[key] = referral

        self.at(moment, action)

    def qualify(self, key: str, moment: datetime, *, task_goals: tuple[str, ...] = ()) -> None:
        """The friend checks in at a store (and test-drives): qualified, CPL earned, task results counted."""

        def action() -> None:
            referral = self.referrals[key]
            referral_qualify(lead_public_id=referral.lead_public_id, cause="visit.checked_in")
            referral.refresh_from_db()
            for goal in (TaskGoal.STORE_VISIT, *task_goals):
                task_results_record(result=TaskResult(referral=referral, goal=goal, at=moment))

        self.at(moment, action)

    def order(self, key: str, moment: datetime) -> None:
        def action() -> None:
            referral = self.referrals[key]
            referral_order(
                order_number=new_order_number(),
                buyer_public_id=referral.person.public_id,
                model_code=referral.model_code,
                ordered_at=moment,
            )
            referral.refresh_from_db()

        self.at(moment, action)

    def deliver(self, key: str, moment: datetime) -> None:
        def action() -> None:
            referral = self.referrals[key]
            referral.refresh_from_db()
            referral_deliver(
                order_number=referral.order_number,
                buyer_public_id=referral.person.public_id,
                model_code=referral.model_code,
                ordered_at=referral.updated_at,
            )

        self.at(moment, action)
        # The return window passes: the sale is confirmed (the sweeper's job, done at that moment).
        window = timedelta(days=settings.REFERRALS_RETURN_WINDOW_DAYS, minutes=5)
        self.at(moment + window, _confirm_sales)

    def lose(self, key: str, moment: datetime, reason: str) -> None:
        def action() -> None:
            referral = self.referrals[key]
            referral.refresh_from_db()
            referral_lose(order_number=referral.order_number, reason=reason)

        self.at(moment, action)

    def journey(
        self, key: str, broker: Broker, start: datetime, *, model: str | None = None, goals=()
    ) -> None:
        """A friend who goes all the way: visit, order, delivery (and the sale confirmed after the window)."""
        self.refer(key, broker, start, model=model)
        self.qualify(key, start + timedelta(days=5), task_goals=goals)
        self.order(key, start + timedelta(days=9))
        self.deliver(key, start + timedelta(days=20))


def _confirm_sales() -> None:
    referrals_convert_due()


def month_start(moment: datetime) -> datetime:
    return month_bounds(month_first(moment))[0]


def friends_with_leads(exclude: set[int]) -> list[tuple[User, str, str, City | None]]:
    """People with a demo lead (one per person, newest first) and no order, for brokers to have referred."""
    customers = set(Order.objects.values_list("buyer_id", flat=True))
    seen: set[int] = set(exclude) | customers
    friends = []
    for lead in Lead.objects.select_related("person", "model", "city").order_by("-created_at", "-id")[:600]:
        if lead.person_id in seen or lead.person.role != Role.CONSUMER:
            continue
        if Referral.objects.filter(lead_public_id=lead.public_id).exists():
            continue
        seen.add(lead.person_id)
        friends.append((lead.person, lead.public_id, lead.model.code if lead.model_id else "", lead.city))
    return friends


def enrol(user: User, *, ops: User, kind: str, city: City | None, when: datetime) -> Broker:
    """Enrol through the service; an owner whose car was bought before Forecourt (no order here to
    prove it) is written as history instead, enrolled by ops."""
    with clock.frozen_at(when):
        try:
            return broker_enrol(user=user, actor=ops, kind=kind, city=city)
        except DomainError:
            return Broker.objects.create(user=user, kind=kind, city=city, enrolled_at=when, enrolled_by=ops)


def cluster_flags(ids: list[str], device: str, since: datetime) -> list[dict[str, Any]]:
    """The fraud rules' device-cluster evidence (as attribution writes it) for three referrals."""
    return [
        {
            "rule": "device_cluster",
            "evidence": {
                "device": device,
                "count": len(ids),
                "window_days": settings.REFERRALS_CLUSTER_DAYS,
                "since": since.isoformat(),
                "referrals": [other for other in ids if other != own],
            },
        }
        for own in ids
    ]
