from .campaigns import (
    COUNTER_KINDS,
    ORDER_KINDS,
    Campaign,
    Channel,
    ClaimTally,
    CouponKind,
    Merchant,
    MerchantKind,
    MerchantStaff,
    OnCancel,
    PriceFloor,
)
from .subsidies import (
    ApplicationStatus,
    IdDocumentType,
    Sponsor,
    SubsidyApplication,
    SubsidyProgramme,
)
from .vouchers import Redemption, Voucher, VoucherStatus

__all__ = [
    "COUNTER_KINDS",
    "ORDER_KINDS",
    "ApplicationStatus",
    "Campaign",
    "Channel",
    "ClaimTally",
    "CouponKind",
    "IdDocumentType",
    "Merchant",
    "MerchantKind",
    "MerchantStaff",
    "OnCancel",
    "PriceFloor",
    "Redemption",
    "Sponsor",
    "SubsidyApplication",
    "SubsidyProgramme",
    "Voucher",
    "VoucherStatus",
]
