"""Pure export writers (CSV, XLSX, charts) fed by a neutral table.

Nothing here may import Flask, SQLAlchemy or ``server``: services build the table, these
writers only turn it into bytes. The writers arrive with the data-export work; the import
rules are already enforced by ``tests/test_architecture.py``.
"""
