"""Load the demo data: each app's `demo_data.seed(rng=...)`, lowest layer first, one transaction per app."""

import importlib
import importlib.util
import random
from types import ModuleType
from typing import Any

from django.apps import apps
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import translation

# Layer order: an app's demo data may refer to what the apps before it created (staff belong to dealers).
SEED_ORDER = [
    "dealers",
    "catalog",
    "accounts",
    "leads",
    "appointments",
    "orders",
    "offers",
    "loyalty",
    "referrals",
]
# One fixed seed, so every demo database holds the same people, cars and prices.
DEMO_RANDOM_SEED = 20261122


def demo_data_module(app_label: str) -> ModuleType | None:
    """The app's `demo_data` module, or None when the app is not installed or has no demo data."""
    if not apps.is_installed(f"forecourt.{app_label}"):
        return None
    name = f"forecourt.{app_label}.demo_data"
    if importlib.util.find_spec(name) is None:
        return None
    return importlib.import_module(name)


def database_has_demo_data() -> bool:
    """The demo database counts as seeded once it has dealers (the first app seeded)."""
    return apps.get_model("dealers", "Dealer").objects.exists()


def _row_counts(app_label: str) -> dict[str, int]:
    config = apps.get_app_config(app_label)
    # The console speaks English, like the rest of the command's output.
    with translation.override("en"):
        return {
            str(model._meta.verbose_name_plural): model._default_manager.count()
            for model in config.get_models()
        }


class Command(BaseCommand):
    help = "Load the demo data into an empty database; --reset empties the database first."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--reset", action="store_true", help="Delete ALL data in the database first (flush), then seed."
        )

    def handle(self, *args: Any, reset: bool, **options: Any) -> None:
        if reset:
            self.stdout.write("Emptying the database (flush)…")
            call_command("flush", interactive=False, verbosity=0)
        elif database_has_demo_data():
            self.stdout.write("The database already has dealers: nothing seeded (use --reset to start over).")
            return
        rng = random.Random(DEMO_RANDOM_SEED)
        for app_label in SEED_ORDER:
            module = demo_data_module(app_label)
            if module is None or not callable(getattr(module, "seed", None)):
                self.stdout.write(f"  {app_label}: no demo data")
                continue
            before = _row_counts(app_label)
            with transaction.atomic():
                module.seed(rng=rng)
            after = _row_counts(app_label)
            added = ", ".join(
                f"{after[name] - before.get(name, 0)} {name}"
                for name in after
                if after[name] != before.get(name, 0)
            )
            self.stdout.write(f"  {app_label}: {added or 'nothing new'}")
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))
