import hashlib
import hmac

import pytest
from cryptography.fernet import Fernet
from hypothesis import given
from hypothesis import strategies as st

from forecourt.core.errors import DomainError
from forecourt.core.phones import (
    InvalidPhone,
    decrypt_phone,
    encrypt_phone,
    mask_name,
    mask_phone,
    national_number,
    normalise_mainland_mobile,
    phone_hash,
    protect_phone,
)

E164 = "+8613800138000"
mainland_mobiles = st.builds(
    lambda second, rest: f"1{second}{rest}",
    st.sampled_from("3456789"),
    st.text(alphabet="0123456789", min_size=9, max_size=9),
)


@pytest.mark.parametrize(
    "spelling",
    [
        "13800138000",
        "+86 138 0013 8000",
        "0086-13800138000",
        "86 13800138000",
        "+8613800138000",
        "+86-138-0013-8000",
        "(+86) 138 0013 8000",
        "138.0013.8000",
        "  138 0013 8000\n",
        "１３８００１３８０００",  # full-width digits from a Chinese input method
        "＋８６　１３８－００１３－８０００",
    ],
)
def test_usual_spellings_normalise_to_e164(spelling):
    assert normalise_mainland_mobile(spelling) == E164


@pytest.mark.parametrize(
    "spelling",
    [
        "010-12345678",  # Beijing landline
        "+86 10 1234 5678",
        "021 6123 4567",
        "138001380001",  # 12 digits
        "1380013800",  # 10 digits
        "8613800138000123",
        "1380013800a",
        "abcdefghijk",
        "12345678901",  # 12x is not a mobile prefix
        "11800138000",
        "",
        "   ",
        "+852 9123 4567",  # Hong Kong
        "+1 415 555 0100",
        "١٣٨٠٠١٣٨٠٠٠",  # Arabic-Indic digits
        "138 0013 8000 ext 1",
    ],
)
def test_anything_but_a_mainland_mobile_is_rejected_with_invalid_phone(spelling):
    with pytest.raises(InvalidPhone) as raised:
        normalise_mainland_mobile(spelling)
    assert raised.value.code == "invalid_phone"
    assert raised.value.status == 422
    assert raised.value.details == {"field": "phone"}
    assert raised.value.message


def test_a_non_string_is_rejected_with_invalid_phone():
    with pytest.raises(InvalidPhone) as raised:
        normalise_mainland_mobile(13800138000)  # type: ignore[arg-type]
    assert raised.value.code == "invalid_phone"


SPELLINGS = [
    lambda n: n,
    lambda n: f"+86{n}",
    lambda n: f"+86 {n}",
    lambda n: f"0086{n}",
    lambda n: f"86 {n}",
    lambda n: f"{n[:3]} {n[3:7]} {n[7:]}",
    lambda n: f"+86-{n[:3]}-{n[3:7]}-{n[7:]}",
]


@given(mainland_mobiles, st.sampled_from(SPELLINGS))
def test_every_mainland_mobile_in_every_spelling_normalises_to_the_same_e164(number, spelling):
    assert normalise_mainland_mobile(spelling(number)) == "+86" + number


def test_national_number_strips_the_country_code():
    assert national_number(E164) == "13800138000"


def test_phone_hash_is_a_keyed_hmac(settings):
    settings.PHONE_HASH_KEY = "key-one"
    first = phone_hash(E164)
    assert first == hmac.new(b"key-one", E164.encode(), hashlib.sha256).hexdigest()
    assert first == phone_hash(E164)
    assert first != hashlib.sha256(E164.encode()).hexdigest()  # not a plain, enumerable hash
    assert "13800138000" not in first
    settings.PHONE_HASH_KEY = "key-two"
    assert phone_hash(E164) != first


def test_phone_hash_differs_between_numbers():
    assert phone_hash("+8613800138000") != phone_hash("+8613800138001")


def test_encrypt_then_decrypt_returns_the_number():
    token = encrypt_phone(E164)
    assert "13800138000" not in token
    assert decrypt_phone(token) == E164
    # Fernet uses a fresh IV each time: equal numbers do not give equal ciphertexts.
    assert encrypt_phone(E164) != token


def test_rotated_keys_still_decrypt_old_ciphertexts(settings):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.PHONE_ENCRYPTION_KEYS = [old_key]
    old_token = encrypt_phone(E164)
    settings.PHONE_ENCRYPTION_KEYS = [new_key, old_key]
    assert decrypt_phone(old_token) == E164
    new_token = encrypt_phone(E164)
    settings.PHONE_ENCRYPTION_KEYS = [new_key]
    assert decrypt_phone(new_token) == E164  # the first key encrypts


def test_a_ciphertext_from_a_retired_key_cannot_be_read(settings):
    settings.PHONE_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    token = encrypt_phone(E164)
    settings.PHONE_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(DomainError) as raised:
        decrypt_phone(token)
    assert raised.value.code == "invalid"


@pytest.mark.parametrize(
    ("number", "masked"),
    [("+8613800138000", "138****8000"), ("13912345678", "139****5678"), ("+86123", "***")],
)
def test_mask_shows_the_first_three_and_last_four_digits(number, masked):
    assert mask_phone(number) == masked


def test_protect_phone_returns_e164_hash_and_ciphertext():
    e164, digest, token = protect_phone("138 0013 8000")
    assert e164 == E164
    assert digest == phone_hash(E164)
    assert decrypt_phone(token) == E164


def test_protect_phone_rejects_an_invalid_number():
    with pytest.raises(InvalidPhone):
        protect_phone("010-12345678")


@pytest.mark.parametrize(
    ("name", "masked"),
    [("张三丰", "张**"), ("李娜", "李*"), ("王", "王*"), ("  欧阳娜娜 ", "欧***"), ("", "")],
)
def test_a_name_is_masked_to_its_first_character(name, masked):
    assert mask_name(name) == masked
