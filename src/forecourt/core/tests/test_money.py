import pytest

from forecourt.core.money import CurrencyMismatch, Money


def test_yuan_is_stored_in_fen():
    assert Money.yuan("268800").amount == 26_880_000
    assert Money.yuan("99.5").amount == 9_950


def test_float_amounts_are_refused():
    with pytest.raises(TypeError):
        Money(1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money.yuan(1.5)  # type: ignore[arg-type]


def test_adding_different_currencies_is_refused():
    with pytest.raises(CurrencyMismatch):
        Money(100, "CNY") + Money(100, "USD")


def test_format_whole_and_fractional_yuan():
    assert Money(26_880_000).format() == "¥268,800"
    assert Money(9_950).format() == "¥99.50"
    assert Money(-500).format() == "-¥5"
