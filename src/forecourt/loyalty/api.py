"""Skeleton: the helper building this API replaces this file."""

from ninja import Router

router = Router()
