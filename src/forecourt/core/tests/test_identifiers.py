import re

from hypothesis import given
from hypothesis import strategies as st

from forecourt.core.identifiers import (
    CODE_ALPHABET,
    normalise_code,
    numeric_code,
    public_id,
    random_code,
    share_code,
    short_code,
)


def test_the_code_alphabet_is_crockford_base32_without_lookalikes():
    assert len(CODE_ALPHABET) == len(set(CODE_ALPHABET)) == 32
    assert not set("ILOU") & set(CODE_ALPHABET)
    assert "".join(sorted(CODE_ALPHABET)) == CODE_ALPHABET


def test_public_id_is_a_prefix_and_sixteen_code_characters():
    assert re.fullmatch(rf"cfg_[{CODE_ALPHABET}]{{16}}", public_id("cfg"))
    assert re.fullmatch(rf"ld_[{CODE_ALPHABET}]{{20}}", public_id("ld", length=20))


def test_code_lengths():
    assert len(share_code()) == 12
    assert len(short_code()) == 6
    assert len(short_code(8)) == 8
    assert len(random_code(5)) == 5
    assert set(share_code() + short_code()) <= set(CODE_ALPHABET)


def test_numeric_code_is_digits_only():
    codes = [numeric_code() for _ in range(200)]
    assert all(re.fullmatch(r"[0-9]{6}", code) for code in codes)


def test_share_codes_do_not_repeat():
    codes = {share_code() for _ in range(2_000)}
    assert len(codes) == 2_000


def test_normalise_code_forgives_case_spaces_dashes_and_lookalikes():
    assert normalise_code(" ab-cd o1l ") == "ABCD011"
    assert normalise_code("7k3m-9q2x") == "7K3M9Q2X"


@given(st.text(alphabet=CODE_ALPHABET, min_size=1, max_size=16))
def test_a_code_typed_in_lower_case_with_dashes_normalises_to_itself(code):
    typed = "-".join(code[index : index + 4] for index in range(0, len(code), 4)).lower()
    assert normalise_code(typed) == code
    assert normalise_code(code) == code
