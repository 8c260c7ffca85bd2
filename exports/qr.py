"""A QR code as a PNG image, for pages (scanned from the screen by a tablet's camera).

A PNG of the ~400-character payload Collect settings make is about 1 KB and is embedded in the
page as a ``data:`` image (the pages' CSP allows those), so the token it carries never sits in
a file or a cache. Pixel-exact modules (no smoothing) keep it scannable from a screen.
"""

from __future__ import annotations

import io

import qrcode


def qr_png(text: str, *, box_size: int = 6, border: int = 4) -> bytes:
    """The QR code of ``text`` as PNG bytes.

    :param text: what the code holds.
    :param box_size: pixels per module.
    :param border: quiet-zone modules around the code (4 is the standard's minimum).
    :return: the PNG file's bytes.
    """
    code = qrcode.QRCode(
        box_size=box_size, border=border, error_correction=qrcode.constants.ERROR_CORRECT_M
    )
    code.add_data(text)
    code.make(fit=True)
    out = io.BytesIO()
    code.make_image().save(out, format="PNG")
    return out.getvalue()
