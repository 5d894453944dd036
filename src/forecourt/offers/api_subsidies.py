"""Subsidy programme API (mounted at /api/v1/subsidies)."""

from ninja import Router

router = Router(tags=["offers"])
