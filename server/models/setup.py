"""The setup generation: one counter that moves whenever what the hot paths cache changes.

The hot paths cache, per process, what rarely changes: a device token's device and its forms,
an API token's user with their role, forms and units, each form's state and versions, each
version's answer key. Every process reads this one
row at the start of a request (in the same round trip as its first real query where it can)
and drops its caches when the number moved. Triggers on the cached tables bump it in the same
transaction as the change, so the invalidation holds across processes and for every writer (the
web, the CLI, a migration), not only for code that remembers to call something.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base

#: The tables whose changes bump the generation (triggers in migrations 0012 and 0019).
CACHED_TABLES = (
    "devices", "device_forms", "forms", "form_versions", "answer_keys",
    "api_tokens", "users", "user_forms",
)  # fmt: skip


class SetupGeneration(Base):
    """The single row holding the current generation."""

    __tablename__ = "setup_generation"
    __table_args__ = (sa.CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(sa.BigInteger, default=0)
