"""What ODK Collect and KoBoCollect read from a "Configure with QR code" scan.

Collect's QR code holds its settings JSON, zlib-deflated and then base64-encoded
(``SettingsImporter`` in Collect). A device-token project needs only the server URL (the token
is in it, so no user name or password), plus sensible defaults for the field: forms kept exactly
as the server lists them, finished forms sent automatically, the server not changeable on the
tablet. The CLI prints the code as text; the tablets page shows it as an image.
"""

from __future__ import annotations

import base64
import json
import zlib


def collect_settings(url: str, label: str) -> dict:
    """The settings ODK Collect imports from a QR code for a device-token project.

    :param url: the project's server URL (``…/key/<token>``).
    :param label: the project's name on the tablet.
    :return: the settings object.
    """
    return {
        "general": {
            "server_url": url,
            "username": "",
            "password": "",
            "form_update_mode": "match_exactly",
            "autosend": "wifi_and_cellular",
            "delete_send": False,
        },
        "admin": {"change_server": False},
        "project": {"name": label, "icon": "T", "color": "#0b5d7a"},
    }


def qr_payload(settings: dict) -> str:
    """Collect's QR text: the settings JSON, zlib-deflated, then base64."""
    raw = json.dumps(settings, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return base64.b64encode(zlib.compress(raw)).decode("ascii")
