"""Persistence: SQLAlchemy 2.0 models. Re-exported here so Alembic sees every table."""

from server.models.base import Base
from server.models.forms import Form, FormMedia, FormVersion
from server.models.units import AdminUnit

__all__ = ["AdminUnit", "Base", "Form", "FormMedia", "FormVersion"]
