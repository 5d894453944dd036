"""Helpers of the browser tests (Playwright with `live_server`): a page signed in as someone, and a QR code
the app drew read back with the page's own jsQR (as the camera scanner would)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.test import Client

_QR_READ = """async ([svg, size]) => {
  const image = new Image();
  image.src = "data:image/svg+xml;base64," + btoa(svg);
  await image.decode();
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = size;
  const context = canvas.getContext("2d");
  context.imageSmoothingEnabled = false;
  context.drawImage(image, 0, 0, size, size);
  const pixels = context.getImageData(0, 0, size, size);
  const found = window.jsQR(pixels.data, size, size);
  return found ? found.data : null;
}"""


def page_signed_in(page: Any, live_server: Any, user: Any) -> None:
    """Give the page's browser context the session of `user` (the sign-in page has its own test)."""
    session = Client()
    session.force_login(user)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": session.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )


def qr_read(page: Any, svg: str, *, size: int = 400) -> str | None:
    """The text of a QR code drawn as SVG, decoded in the page (which must have loaded jsQR)."""
    text = page.evaluate(_QR_READ, [svg, size])
    return None if text is None else str(text)
