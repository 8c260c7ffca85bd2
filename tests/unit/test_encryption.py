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
from tests.conftest import DATA

KEY = load_private_key((DATA / "encryption" / "collect_test_key.pem").read_bytes())
INSTANCE = "uuid:99b303d9-6494-477b-a30d-d8aae8867335"
ENCRYPTED_KEY = (
    "iyEB1LAlvVE8uaW0HuhLhzwcLceIukqfgusDNdDEE2FFxVtUtSI3FiOuNxhgI/Zbgnaabh/vqeZ3yLXwv0f66pAbN0n8"
    "kM9f84VJR18fdUp6doOz7o8IQD7gc3ZfbRXweab/NxnahfYa9ij0Kax1LTKS05Oodk2MewkzwfBhdbf/CfiBP1HSskDi"
    "o40jdW5f04GkqZsFCPUluF2DfMnwYCo0wdwf2m8o+lSNR+vrFeEYG7LtGE4X90pVrQnJHwFWHGjSwJpg/USn5skBioDK"
    "UCv/Dva9xJ+JXUz+QSg6LOuP+SDxsrmf36WKrnE8kWfN4oaBdmIwFSStkLH9foNXUw=="
)
CIPHERTEXT = base64.b64decode(
    "kMhJdk0mZOqvlxndUO3v4+UPvfYoc+bbkPmF3QmhoP7lP/QjHbzqw/IfZxQ54D328eCc4V6jtbrjeAXV+m1cWsCGGLW5"
    "KwTAxBjPBXzsZrUeY0RISVJ1g9BJoXfSRAjYMrFYOM907BFUIYYxMqpVWGy1lo8ljqY+Sgq1VphkQk/TQGgOVYFALHDL"
    "OYnLKuLHvwBLQQwK3lje8CwNlf/b2rY9qfGC4P1emoiP+YzkLp8eH6x/HfMvRIFoZEaom1i5s3SU4WVwe2Tno4jKD69o"
    "jMlQN6VKB7DK4xaRSs2C7zfDm63n1WCyyOAj8mASIFhb3sc3hD56HTJFUV/TH3UVlzP7oPm/Mm7nEcU3+HdSSwm3I1qF"
    "YhsXfVRym41IlbC4Twf660/kUZrugA7Zqd5K9Un3lOVTzYowaF+m5OIOO56wff3zPBxeOVjANDKR7V6/"
)
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
