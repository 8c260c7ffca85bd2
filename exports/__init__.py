"""Pure export writers (CSV, XLSX, ZIP) fed by a neutral :class:`Table`.

Nothing here imports Flask, SQLAlchemy or ``server``: services build the tables, these
writers only turn them into bytes.
"""

from exports.csv import iter_csv, write_csv
from exports.table import CLOCK, Column, Table, clock_header, unique_keys
from exports.xlsx import write_xlsx
from exports.zip import write_zip

__all__ = [
    "CLOCK",
    "Column",
    "Table",
    "clock_header",
    "iter_csv",
    "unique_keys",
    "write_csv",
    "write_xlsx",
    "write_zip",
]
