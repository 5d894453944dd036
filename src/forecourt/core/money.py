"""Money as an integer amount in the currency's minor unit beside an ISO 4217 code. No floats, ever."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

# Minor units per major unit; CNY is counted in fen.
MINOR_UNITS = {"CNY": 100, "USD": 100, "EUR": 100, "HKD": 100}
SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "HKD": "HK$"}


class CurrencyMismatch(ValueError):
    pass


@dataclass(frozen=True, slots=True, order=False)
class Money:
    amount: int
    currency: str = "CNY"

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise TypeError(f"Money amount must be an int of minor units, got {type(self.amount).__name__}")
        if self.currency not in MINOR_UNITS:
            raise ValueError(f"unsupported currency {self.currency!r}")

    @classmethod
    def zero(cls, currency: str = "CNY") -> Money:
        return cls(0, currency)

    @classmethod
    def yuan(cls, major: int | str | Decimal) -> Money:
        """Build CNY from a yuan amount given as an int, a decimal string or a Decimal (never a float)."""
        if isinstance(major, float):
            raise TypeError("use a string or Decimal for fractional yuan, never a float")
        fen = (Decimal(major) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        return cls(int(fen), "CNY")

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"{self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, factor: int) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, int):
            raise TypeError("Money can only be multiplied by an int")
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount >= other.amount

    def percent(self, basis_points: int) -> Money:
        """A share of this amount in basis points (1/100 of a percent), rounded half up to the minor unit."""
        share = (Decimal(self.amount) * basis_points / 10_000).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        return Money(int(share), self.currency)

    @property
    def major(self) -> Decimal:
        return Decimal(self.amount) / MINOR_UNITS[self.currency]

    def as_dict(self) -> dict[str, Any]:
        return {"amount": self.amount, "currency": self.currency}

    def format(self, language: str = "zh-hans") -> str:
        """Format for display: ¥268,800 (whole yuan) or ¥99.50; English adds the code for clarity."""
        sign = "-" if self.amount < 0 else ""
        major = abs(self.major)
        text = f"{major:,.0f}" if major == major.to_integral_value() else f"{major:,.2f}"
        symbol = SYMBOLS.get(self.currency, self.currency + " ")
        return f"{sign}{symbol}{text}"

    def __str__(self) -> str:
        return self.format()


def money_sum(items: list[Money], currency: str = "CNY") -> Money:
    total = Money.zero(currency)
    for item in items:
        total = total + item
    return total
