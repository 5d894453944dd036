"""Staff API: voucher lookup and write-off for dealer and merchant staff (mounted at /api/v1/vouchers)."""

from ninja import Router

router = Router(tags=["offers"])
