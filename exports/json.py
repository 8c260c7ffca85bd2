"""Plain data (a report's model) as a JSON file: UTF-8, readable, stable.

Reports are small, so this is the standard library's encoder with Vietnamese kept as it is
(``ensure_ascii=False``) and one-space indents, the files the CLI wrote before the registry.
"""

from __future__ import annotations

import json
from typing import IO, Any


def write_json(data: Any, out: IO[bytes]) -> None:
    """Write plain data as indented UTF-8 JSON.

    :param data: dicts, lists, strings, numbers, booleans and None.
    :param out: a binary file object.
    """
    out.write(json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8"))
