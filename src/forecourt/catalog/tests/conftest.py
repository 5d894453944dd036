import pytest

from forecourt.catalog.snapshots import catalog_cache_clear
from forecourt.catalog.tests.factories import Catalogue, build_catalogue


@pytest.fixture(autouse=True)
def _fresh_catalog_cache():
    """Rolled-back test data sends no signals, so each test starts with an empty snapshot cache."""
    catalog_cache_clear()
    yield
    catalog_cache_clear()


@pytest.fixture
def catalogue(db) -> Catalogue:
    return build_catalogue()


# The choices every valid configuration of the test catalogue needs: one paint, interior and wheels.
BASE = ["white", "black-int", "wheels-18"]


@pytest.fixture
def base_choices() -> list[str]:
    return list(BASE)
