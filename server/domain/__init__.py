"""Pure domain code: no Flask, SQLAlchemy or requests. Dataclasses and functions."""
