"""QR codes drawn as SVG, for the codes people show at a counter (appointments, vouchers)."""

import qrcode
import qrcode.image.svg


def qr_svg(payload: str) -> str:
    """An SVG image (a string) of the payload's QR code on a white ground, scalable to any size."""
    image = qrcode.make(
        payload,
        image_factory=qrcode.image.svg.SvgPathFillImage,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        box_size=10,
        border=4,
    )
    return image.to_string(encoding="unicode")
