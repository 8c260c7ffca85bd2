"""Forms, their immutable published versions, and the media files each version serves."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, UTCDateTime, utcnow

FORM_STATES = ("open", "closing", "closed")


class Form(Base):
    """A form as devices know it: one ``form_id``, many published versions."""

    __tablename__ = "forms"
    __table_args__ = (
        sa.UniqueConstraint("form_id"),
        sa.CheckConstraint(f"state IN {FORM_STATES!r}", name="state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: XLSForm settings.form_id = XForm root ``id`` = formList ``<formID>``.
    form_id: Mapped[str] = mapped_column(sa.String(255))
    #: Title of the latest published version.
    title: Mapped[str] = mapped_column(sa.String(255))
    #: open: listed and accepting; closing: hidden but accepting; closed: hidden and refusing.
    state: Mapped[str] = mapped_column(sa.String(16), default="open")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    versions: Mapped[list[FormVersion]] = relationship(
        back_populates="form", order_by="FormVersion.id"
    )

    def __repr__(self) -> str:
        return f"<Form {self.form_id} {self.state}>"


class FormVersion(Base):
    """One published version: the exact XForm bytes devices download, never changed afterwards."""

    __tablename__ = "form_versions"
    __table_args__ = (
        sa.UniqueConstraint("form_pk", "version"),
        sa.CheckConstraint("length(md5) = 32", name="md5_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    form_pk: Mapped[int] = mapped_column(sa.ForeignKey("forms.id", ondelete="RESTRICT"), index=True)
    #: As JavaRosa reads it; '' for an XForm published without one (as ODK Central stores it).
    version: Mapped[str] = mapped_column(sa.String(255))
    title: Mapped[str] = mapped_column(sa.String(255))
    #: The XForm exactly as served; formList's hash is the md5 of these bytes.
    xml: Mapped[bytes] = mapped_column(sa.LargeBinary)
    md5: Mapped[str] = mapped_column(sa.String(32))
    #: Field schema (domain.xforms.FormSchema.to_dict) used to parse submissions.
    schema: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    #: pyxform / ODK Validate warnings, kept to show them to the publisher later.
    warnings: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    #: The file the version was published from (XLSForm or XForm), byte for byte.
    source: Mapped[bytes] = mapped_column(sa.LargeBinary)
    source_filename: Mapped[str] = mapped_column(sa.String(255))
    #: File kind of ``source``: .xlsx .xls .csv .md or .xml.
    source_type: Mapped[str] = mapped_column(sa.String(8))
    #: True when the form carries a public key (submissions arrive encrypted).
    is_encrypted: Mapped[bool] = mapped_column(default=False)
    published_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    form: Mapped[Form] = relationship(back_populates="versions")
    media: Mapped[list[FormMedia]] = relationship(
        back_populates="form_version", order_by="FormMedia.filename"
    )

    def __repr__(self) -> str:
        return f"<FormVersion {self.form.form_id if self.form else self.form_pk} v{self.version}>"


class FormMedia(Base):
    """A file a form version references (jr://images/…, jr://file-csv/…), listed in its manifest."""

    __tablename__ = "form_media"
    __table_args__ = (
        sa.UniqueConstraint("form_version_id", "filename"),
        sa.CheckConstraint("length(md5) = 32", name="md5_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    form_version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("form_versions.id", ondelete="CASCADE"), index=True
    )
    #: The name the XForm uses, exactly (may be Unicode).
    filename: Mapped[str] = mapped_column(sa.String(255))
    content_type: Mapped[str] = mapped_column(sa.String(128))
    content: Mapped[bytes] = mapped_column(sa.LargeBinary)
    md5: Mapped[str] = mapped_column(sa.String(32))
    size: Mapped[int]
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    form_version: Mapped[FormVersion] = relationship(back_populates="media")

    def __repr__(self) -> str:
        return f"<FormMedia {self.filename} md5:{self.md5}>"
