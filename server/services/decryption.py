"""Decrypting encrypted submissions for an export, with the private key the administrator gives.

The key is used in memory for one export only; nothing decrypted is stored. A wrong key is found
before any output is written (:meth:`SubmissionDecryptor.check`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.domain.encryption import (
    decrypt_file,
    decrypt_submission_key,
    encrypted_key_of,
    load_private_key,
    submission_ivs,
)
from server.domain.instances import index_fields, read_instance, typed_data
from server.errors import DecryptionFailed
from server.models import Form, FormVersion, Submission, SubmissionAttachment
from server.services.attachment_store import AttachmentStore


class SubmissionDecryptor:
    """Opens the envelopes of one form's encrypted submissions."""

    def __init__(self, session: Session, store: AttachmentStore, private_key_pem: bytes):
        self.session, self.store = session, store
        self.key = load_private_key(private_key_pem)
        self._fields: dict[int, dict[str, Any]] = {}

    def check(self, form: Form) -> None:
        """Try the key on the form's first encrypted submission.

        :raises DecryptionFailed: if the key is not the form's.
        """
        xml = self.session.execute(
            sa.select(Submission.xml)
            .where(Submission.form_pk == form.id, Submission.is_encrypted.is_(True))
            .limit(1)
        ).scalar_one_or_none()
        if xml is not None:
            self._open(xml)

    def _open(self, xml: bytes):
        envelope = read_instance(xml)
        key_b64 = encrypted_key_of(envelope.root)
        if key_b64 is None:
            raise DecryptionFailed(reason="no_submission_key", instance_id=envelope.instance_id)
        aes_key = decrypt_submission_key(self.key, key_b64)
        files = envelope.encrypted_files
        return envelope, aes_key, submission_ivs(envelope.instance_id, aes_key, len(files))

    def _files(self, submission_id: int) -> dict[str, str]:
        rows = self.session.execute(
            sa.select(SubmissionAttachment.name, SubmissionAttachment.sha256).where(
                SubmissionAttachment.submission_id == submission_id,
                SubmissionAttachment.sha256.is_not(None),
            )
        )
        return dict(rows.all())

    def data(self, submission_id: int, version_id: int, xml: bytes) -> dict[str, Any]:
        """The typed answers of an encrypted submission ({} while its XML file is missing)."""
        envelope, aes_key, ivs = self._open(xml)
        xml_name = envelope.encrypted_files[-1] if envelope.encrypted_files else None
        sha = self._files(submission_id).get(xml_name) if xml_name else None
        if sha is None:
            return {}
        plain = decrypt_file(aes_key, ivs[-1], self.store.read(sha))
        return typed_data(read_instance(plain).root, self._version_fields(version_id))

    def media(self, submission_id: int, xml: bytes) -> list[tuple[str, Callable[[], bytes]]]:
        """The submission's media as (plain name, function returning the decrypted bytes)."""
        envelope, aes_key, ivs = self._open(xml)
        present = self._files(submission_id)
        result = []
        for index, name in enumerate(envelope.encrypted_files[:-1]):
            if name in present:
                plain_name = name.removesuffix(".enc")
                result.append(
                    (plain_name, _decrypting(self.store, present[name], aes_key, ivs[index]))
                )
        return result

    def _version_fields(self, version_id: int) -> dict[str, Any]:
        if version_id not in self._fields:
            schema = self.session.execute(
                sa.select(FormVersion.schema).where(FormVersion.id == version_id)
            ).scalar_one()
            self._fields[version_id] = index_fields(schema["fields"])
        return self._fields[version_id]


def _decrypting(store: AttachmentStore, sha: str, aes_key: bytes, iv: bytes):
    return lambda: decrypt_file(aes_key, iv, store.read(sha))
