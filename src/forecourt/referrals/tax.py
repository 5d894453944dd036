"""Individual income tax withheld on a broker's monthly commission (劳务报酬所得, per-payment withholding).

The payer withholds on each month's payment (预扣预缴), in integer fen, rounded half up once at the end:

- gross ≤ ¥4,000: taxable = gross − ¥800 (not below 0), tax = taxable × 20 %;
- gross > ¥4,000: taxable = gross × 80 %, then tax = taxable × 20 % (taxable ≤ ¥20,000),
  taxable × 30 % − ¥2,000 (≤ ¥50,000), taxable × 40 % − ¥7,000 (above).

The schedule is continuous: at each boundary both formulas give the same tax (¥640 at ¥4,000 gross,
¥4,000 at ¥20,000 taxable, ¥13,000 at ¥50,000 taxable), so a fen more never costs more than a fen.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

FLAT_DEDUCTION_LIMIT_FEN = 4_000_00
FLAT_DEDUCTION_FEN = 800_00
# (taxable up to, rate, quick deduction) in fen; the last bracket has no upper bound.
BRACKETS: tuple[tuple[int | None, Decimal, int], ...] = (
    (20_000_00, Decimal("0.20"), 0),
    (50_000_00, Decimal("0.30"), 2_000_00),
    (None, Decimal("0.40"), 7_000_00),
)


def taxable_fen(gross_fen: int) -> Decimal:
    """The taxable income of one month's gross commission (exact; may hold a fraction of a fen)."""
    if gross_fen <= FLAT_DEDUCTION_LIMIT_FEN:
        return Decimal(max(0, gross_fen - FLAT_DEDUCTION_FEN))
    return Decimal(gross_fen) * Decimal("0.8")


def tax_withheld_fen(gross_fen: int) -> int:
    """Tax withheld on `gross_fen` (≥ 0), in fen, rounded half up."""
    if isinstance(gross_fen, bool) or not isinstance(gross_fen, int):
        raise TypeError("gross_fen must be an int of fen")
    if gross_fen < 0:
        raise ValueError("gross_fen must not be negative")
    taxable = taxable_fen(gross_fen)
    for upper, rate, deduction in BRACKETS:
        if upper is None or taxable <= upper:
            tax = taxable * rate - deduction
            return int(max(Decimal(0), tax).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    raise AssertionError("unreachable: the last bracket is open")  # pragma: no cover
