from ninja import Router

router = Router(tags=["catalog"])
configurations_router = Router(tags=["configurations"])
