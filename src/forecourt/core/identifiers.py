"""Unguessable public identifiers and human-friendly codes; sequential keys never leave the database."""

import secrets

# Crockford's base32 without I, L, O, U: easy to read aloud and type from a phone screen.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
DIGITS = "0123456789"
# Letters left out of the alphabet, read as the digits they look like.
_LOOKALIKES = str.maketrans("OIL", "011")


def random_code(length: int, alphabet: str = CODE_ALPHABET) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def public_id(prefix: str, length: int = 16) -> str:
    """An API id such as `cfg_7K3M9Q2X4T8V1N6P` (80 bits of randomness at the default length)."""
    return f"{prefix}_{random_code(length)}"


def share_code() -> str:
    """A share-link code: 12 base32 characters, 60 bits."""
    return random_code(12)


def short_code(length: int = 6) -> str:
    """A code a person types at a counter; callers keep it unique among live records."""
    return random_code(length)


def numeric_code(length: int = 6) -> str:
    return random_code(length, DIGITS)


def normalise_code(raw: str) -> str:
    """Accept what a person types: case, spaces and dashes do not matter, O means 0, I and L mean 1."""
    cleaned = raw.strip().upper().replace("-", "").replace(" ", "")
    return cleaned.translate(_LOOKALIKES)
