"""Consumer API: campaigns, claiming, my vouchers (mounted at /api/v1/campaigns and /api/v1/vouchers)."""

from ninja import Router

campaigns_router = Router(tags=["offers"])
vouchers_router = Router(tags=["offers"])
