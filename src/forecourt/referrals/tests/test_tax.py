"""Tax withheld on a broker's monthly commission (劳务报酬 per-payment withholding), in integer fen."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from forecourt.referrals.tax import tax_withheld_fen, taxable_fen


@pytest.mark.parametrize(
    ("gross_fen", "tax_fen"),
    [
        (0, 0),
        (500_00, 0),  # below the ¥800 deduction: nothing
        (800_00, 0),
        (800_01, 0),  # 1 fen taxable × 20 % = 0.2 fen → 0
        (800_03, 1),  # 3 fen × 20 % = 0.6 fen → 1 (half up)
        (1_000_00, 40_00),  # (1,000 − 800) × 20 %
        (3_000_00, 440_00),
        (4_000_00, 640_00),  # the last gross with the flat ¥800 deduction
        (4_000_01, 640_00),  # 400,001 × 80 % × 20 % = 64,000.16 fen
        (5_000_00, 800_00),  # 5,000 × 80 % × 20 %
        (25_000_00, 4_000_00),  # taxable exactly ¥20,000: still 20 %
        (25_000_03, 400_001),  # taxable 2,000,002.4 fen × 30 % − 200,000 fen = 400,000.72 → 400,001
        (30_000_00, 5_200_00),  # taxable 24,000 × 30 % − 2,000
        (62_500_00, 13_000_00),  # taxable exactly ¥50,000: 30 % − 2,000
        (100_000_00, 25_000_00),  # taxable 80,000 × 40 % − 7,000
    ],
)
def test_tax_withheld_matches_the_withholding_table(gross_fen, tax_fen):
    assert tax_withheld_fen(gross_fen) == tax_fen


def test_tax_is_rounded_once_at_the_end():
    # ¥4,000.05: taxable 320,004 fen × 20 % = 64,000.8 → 64,001 (rounding the taxable first gives 64,000).
    assert tax_withheld_fen(4_000_05) == 64_001
    # ¥4,000.03: 320,002.4 × 20 % = 64,000.48 → 64,000.
    assert tax_withheld_fen(4_000_03) == 64_000
    # ¥800.02: 2 fen taxable × 20 % = 0.4 fen → 0.
    assert tax_withheld_fen(800_02) == 0


def test_taxable_income_uses_the_flat_deduction_up_to_four_thousand_yuan():
    assert taxable_fen(4_000_00) == Decimal(3_200_00)
    assert taxable_fen(4_000_01) == Decimal("320000.8")
    assert taxable_fen(300_00) == Decimal(0)


@pytest.mark.parametrize("bad", [-1, 1.5, "100", True, None])
def test_tax_refuses_anything_but_a_non_negative_int_of_fen(bad):
    with pytest.raises((TypeError, ValueError)):
        tax_withheld_fen(bad)


def _reference(gross_fen: int) -> int:
    """The table written out as the tax office states it, in yuan, for comparison."""
    gross = Decimal(gross_fen) / 100
    taxable = max(Decimal(0), gross - 800) if gross <= 4000 else gross * Decimal("0.8")
    if taxable <= 20000:
        tax = taxable * Decimal("0.2")
    elif taxable <= 50000:
        tax = taxable * Decimal("0.3") - 2000
    else:
        tax = taxable * Decimal("0.4") - 7000
    return int((max(Decimal(0), tax) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@given(st.integers(min_value=0, max_value=10_000_000_00))
def test_tax_agrees_with_the_table_in_yuan(gross_fen):
    assert tax_withheld_fen(gross_fen) == _reference(gross_fen)


@given(st.integers(min_value=0, max_value=10_000_000_00))
def test_tax_is_never_negative_nor_more_than_the_gross(gross_fen):
    tax = tax_withheld_fen(gross_fen)
    assert 0 <= tax <= gross_fen
    # The net (gross − tax) is what the statement's CHECK constraint needs: never negative.
    assert gross_fen - tax >= 0


@given(st.integers(min_value=0, max_value=10_000_000_00))
def test_a_fen_more_never_costs_more_than_a_fen_of_tax(gross_fen):
    # The schedule is continuous and its marginal rate is at most 32 %: one more fen of gross adds at
    # most one fen of tax (rounding included), so a broker never nets less by earning more.
    lower, higher = tax_withheld_fen(gross_fen), tax_withheld_fen(gross_fen + 1)
    assert 0 <= higher - lower <= 1
    assert gross_fen + 1 - higher >= gross_fen - lower
