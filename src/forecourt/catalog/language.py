"""Catalogue content is kept in Chinese with an English name beside it; this picks the one to show."""

from django.utils.translation import get_language


def is_english() -> bool:
    return (get_language() or "").startswith("en")


def in_language(chinese: str, english: str) -> str:
    """The English text when the page or request is in English and one exists; Chinese otherwise."""
    if english and is_english():
        return english
    return chinese
