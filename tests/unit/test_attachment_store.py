"""The content-addressed attachment store."""

import hashlib

import pytest

from server.services.attachment_store import AttachmentStore


def test_put_is_content_addressed_and_idempotent(tmp_path):
    store = AttachmentStore(tmp_path)
    digest = store.put(b"photo")
    assert digest == hashlib.sha256(b"photo").hexdigest()
    assert store.path(digest) == tmp_path / digest[:2] / digest
    assert store.put(b"photo") == digest
    assert store.read(digest) == b"photo"
    assert [p.name for p in (tmp_path / digest[:2]).iterdir()] == [digest]  # no temp left over


def test_empty_content_is_a_file_too(tmp_path):
    store = AttachmentStore(tmp_path)
    assert store.read(store.put(b"")) == b""


@pytest.mark.parametrize("bad", ["../../etc/passwd", "ab", "Z" * 64])
def test_only_digests_are_paths(tmp_path, bad):
    with pytest.raises(ValueError, match="not a sha256"):
        AttachmentStore(tmp_path).path(bad)
