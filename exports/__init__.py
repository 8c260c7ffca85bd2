"""Pure exports: neutral tables, a form's tables planned from its schemas, and the writers.

Nothing here imports Flask, SQLAlchemy or ``server``: services supply rows (or plain data, or a
rendered page), :mod:`exports.form_tables` plans a form's tables, and the one registry of
formats (:mod:`exports.formats`) turns them into files.
"""

from exports.csv import iter_csv, write_csv
from exports.form_tables import FormTables, Labels, Record, RecordSource, union_fields
from exports.formats import FORMATS, Format, Output, for_path, named, offered
from exports.page import Page
from exports.table import CLOCK, Column, Rendered, Spliced, Table, clock_header, unique_keys
from exports.xlsx import write_xlsx
from exports.zip import write_zip

__all__ = [
    "CLOCK",
    "FORMATS",
    "Column",
    "FormTables",
    "Format",
    "Labels",
    "Output",
    "Page",
    "Record",
    "RecordSource",
    "Rendered",
    "Spliced",
    "Table",
    "clock_header",
    "for_path",
    "iter_csv",
    "named",
    "offered",
    "union_fields",
    "unique_keys",
    "write_csv",
    "write_xlsx",
    "write_zip",
]
