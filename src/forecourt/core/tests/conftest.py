import pytest

from forecourt.core import events


@pytest.fixture
def isolated_subscribers(monkeypatch):
    """An empty subscriber registry for one test, so test handlers never leak into other tests."""
    monkeypatch.setattr(events, "_subscribers", {})
    return events._subscribers


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """`with on_commit(execute=True):` runs the on-commit callbacks the block registers when it ends."""
    return django_capture_on_commit_callbacks
