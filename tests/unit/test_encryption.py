"""ODK submission decryption against data produced by ODK Collect v1.22.4."""

import base64

import pytest

from server.domain.encryption import (
    decrypt_file,
    decrypt_submission_key,
    load_private_key,
    submission_ivs,
)
from server.errors import DecryptionFailed
from tests.factories import CIPHERTEXT, ENCRYPTED_KEY
from tests.factories import COLLECT_PRIVATE_KEY as KEY
from tests.factories import ENCRYPTED_INSTANCE as INSTANCE

PLAINTEXT = (
    b'<?xml version=\'1.0\' ?><data id="encrypted" version="working3" '
    b'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:h="http://www.w3.org/1999/xhtml" '
    b'xmlns:jr="http://openrosa.org/javarosa"><meta><instanceID>'
    b"uuid:99b303d9-6494-477b-a30d-d8aae8867335</instanceID></meta><name>bob</name><age>30</age>"
    b"<file>1561432532482.jpg</file></data>"
)


def test_ivs_follow_the_byte_increment_rule():
    aes_key = base64.b64decode("3TJoHf74zHbDwG3Ta+bcvfUr50C6yF/astfu+CdSnQU=")
    ivs = submission_ivs("uuid:22525f8e-4f2d-41ed-94da-4c46a2478448", aes_key, 32)
    assert ivs[0].hex() == "39bbb0890f3222269da68b172146477a"
    assert ivs[1].hex() == "39bcb0890f3222269da68b172146477a"
    assert ivs[15].hex() == "39bcb18a103323279ea78c182247487b"
    assert ivs[31].hex() == "3abdb28b113424289fa88d192348497c"


def test_collect_submission_decrypts_end_to_end():
    aes_key = decrypt_submission_key(KEY, ENCRYPTED_KEY)
    ivs = submission_ivs(INSTANCE, aes_key, 2)  # one media file, then submission.xml
    assert decrypt_file(aes_key, ivs[1], CIPHERTEXT) == PLAINTEXT


def test_damaged_ciphertext_is_a_clear_error():
    aes_key = decrypt_submission_key(KEY, ENCRYPTED_KEY)
    ivs = submission_ivs(INSTANCE, aes_key, 2)
    with pytest.raises(DecryptionFailed, match="bad padding"):
        decrypt_file(aes_key, ivs[1], CIPHERTEXT[:-16])


def test_wrong_key_is_a_clear_error():
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(DecryptionFailed, match="is this the form's private key"):
        decrypt_submission_key(other, ENCRYPTED_KEY)
    with pytest.raises(DecryptionFailed, match="could not be read"):
        load_private_key(b"-----BEGIN NOTHING-----")
