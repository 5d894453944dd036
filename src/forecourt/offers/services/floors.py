"""The price floor: the lowest total ops allow for a car after every discount."""

from __future__ import annotations

from django.conf import settings

from forecourt.offers.models import PriceFloor


def price_floor_for(*, trim_code: str, model_code: str, vehicle_price_fen: int) -> int:
    """The floor for this car: the trim's PriceFloor, else the model's, else the default share."""
    trim_floor = PriceFloor.objects.filter(trim__code=trim_code).values_list("floor_fen", flat=True).first()
    if trim_floor is not None:
        return int(trim_floor)
    model_floor = (
        PriceFloor.objects.filter(model__code=model_code, trim__isnull=True)
        .values_list("floor_fen", flat=True)
        .first()
    )
    if model_floor is not None:
        return int(model_floor)
    # Rounded up: the default floor never lets a discount take the last fen below the share.
    return -(-vehicle_price_fen * settings.OFFERS_DEFAULT_FLOOR_PERCENT // 100)
