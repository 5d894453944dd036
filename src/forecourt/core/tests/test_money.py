import pytest
from hypothesis import given
from hypothesis import strategies as st

from forecourt.core.money import MINOR_UNITS, CurrencyMismatch, Money, money_sum


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


# Properties: Money behaves like the integers it wraps, and never mixes currencies.
amounts = st.integers(min_value=-(10**12), max_value=10**12)
currencies = st.sampled_from(sorted(MINOR_UNITS))
cny = st.builds(Money, amounts)


@given(cny, cny)
def test_addition_commutes(a, b):
    assert a + b == b + a


@given(cny, cny, cny)
def test_addition_associates(a, b, c):
    assert (a + b) + c == a + (b + c)


@given(cny)
def test_zero_is_neutral_and_negation_cancels(a):
    assert a + Money.zero() == a
    assert a + (-a) == Money.zero()
    assert a - a == Money.zero()


@given(cny, cny)
def test_subtraction_undoes_addition(a, b):
    assert (a + b) - b == a


@given(cny, st.integers(min_value=-1000, max_value=1000))
def test_multiplying_by_an_int_is_repeated_addition_in_fen(a, factor):
    assert (a * factor).amount == a.amount * factor
    assert factor * a == a * factor


@given(st.lists(cny, max_size=20))
def test_money_sum_is_the_sum_of_the_amounts(items):
    assert money_sum(items) == Money(sum(item.amount for item in items))


@given(cny, cny)
def test_ordering_follows_the_amounts(a, b):
    assert (a < b) == (a.amount < b.amount)
    assert (a <= b) == (a.amount <= b.amount)
    assert (a > b) == (a.amount > b.amount)
    assert (a >= b) == (a.amount >= b.amount)


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=0, max_value=10_000))
def test_a_percentage_of_a_positive_amount_stays_within_it(amount, basis_points):
    share = Money(amount).percent(basis_points)
    assert 0 <= share.amount <= amount
    # Rounded half up to the nearest fen: never more than half a fen from the exact share.
    assert abs(share.amount * 10_000 - amount * basis_points) <= 5_000


@given(cny)
def test_the_whole_and_none_of_an_amount(a):
    assert a.percent(10_000) == a
    assert a.percent(0) == Money.zero()


@given(cny)
def test_yuan_round_trips_through_its_decimal_text(a):
    assert Money.yuan(str(a.major)) == a
    assert Money.yuan(a.major) == a


@given(cny, currencies.filter(lambda code: code != "CNY"))
def test_mixing_currencies_is_always_refused(a, other):
    b = Money(a.amount, other)
    for combine in (lambda: a + b, lambda: a - b, lambda: a < b, lambda: a >= b):
        with pytest.raises(CurrencyMismatch):
            combine()


@given(cny)
def test_as_dict_is_the_api_shape(a):
    assert a.as_dict() == {"amount": a.amount, "currency": "CNY"}


def test_unknown_currency_and_non_int_factors_are_refused():
    with pytest.raises(ValueError):
        Money(100, "XYZ")
    with pytest.raises(TypeError):
        Money(100) * 1.5  # type: ignore[operator]
    with pytest.raises(TypeError):
        Money(100) + 100  # type: ignore[operator]
    with pytest.raises(TypeError):
        Money(True)
