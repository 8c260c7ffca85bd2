"""Exporting an encrypted form with its private key, on a submission made by ODK Collect."""

from __future__ import annotations

import io

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.factories import CIPHERTEXT, DATA, ENCRYPTED_KEY
from tests.factories import COLLECT_PRIVATE_KEY as KEY
from tests.factories import ENCRYPTED_INSTANCE as INSTANCE

PEM = (DATA / "encryption" / "collect_test_key.pem").read_bytes()
ENVELOPE = (
    '<data id="encrypted" version="working3" encrypted="yes" '
    'xmlns="http://www.opendatakit.org/xforms/encrypted">'
    f"<base64EncryptedKey>{ENCRYPTED_KEY}</base64EncryptedKey>"
    '<orx:meta xmlns:orx="http://openrosa.org/xforms">'
    f"<orx:instanceID>{INSTANCE}</orx:instanceID></orx:meta>"
    "<media><file>1561432532482.jpg.enc</file></media>"
    "<encryptedXmlFile>submission.xml.enc</encryptedXmlFile>"
    "<base64EncryptedElementSignature>c2ln</base64EncryptedElementSignature></data>"
)


def form_md() -> bytes:
    public = KEY.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    import base64

    return (
        "| survey |\n| | type | name | label |\n| | text | name | Name |\n"
        "| | integer | age | Age |\n| | image | file | File |\n"
        "| settings |\n| | form_id | version | public_key |\n"
        f"| | encrypted | working3 | {base64.b64encode(public).decode()} |\n"
    ).encode()


@pytest.fixture
def encrypted(publish, submit):
    publish("encrypted.md", content=form_md())
    submit(ENVELOPE, files={"submission.xml.enc": CIPHERTEXT})


def test_cli_exports_decrypted_data_with_the_key(runner, encrypted, tmp_path):
    key = tmp_path / "key.pem"
    key.write_bytes(PEM)
    out = tmp_path / "out.csv"
    result = runner.invoke(
        args=["export", "encrypted", "--out", str(out), "--private-key", str(key)]
    )
    assert result.exit_code == 0, result.output
    lines = out.read_bytes().decode("utf-8-sig").split("\r\n")
    assert lines[0].startswith("name,age,file,instanceID")
    assert lines[1].startswith(f"bob,30,1561432532482.jpg,{INSTANCE},working3,")


def test_cli_refuses_a_wrong_key_and_writes_nothing(runner, encrypted, tmp_path):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key = tmp_path / "wrong.pem"
    key.write_bytes(
        other.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    out = tmp_path / "out.csv"
    result = runner.invoke(
        args=["export", "encrypted", "--out", str(out), "--private-key", str(key)]
    )
    assert result.exit_code == 1
    assert "422.3" in result.output
    assert not out.exists()


def test_api_post_with_the_key_decrypts(client, encrypted, token_for):
    admin = token_for()
    refused = client.get("/api/v1/forms/encrypted/submissions.csv", headers=admin)
    assert refused.status_code == 422
    response = client.post(
        "/api/v1/forms/encrypted/submissions.csv",
        headers=admin,
        data={"private_key": (io.BytesIO(PEM), "key.pem")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert "\r\nbob,30,1561432532482.jpg," in response.get_data(as_text=True)
    wrong = client.post(
        "/api/v1/forms/encrypted/submissions.csv",
        headers=admin,
        data={"private_key": "not a key"},
        content_type="multipart/form-data",
    )
    assert wrong.get_json()["error"]["code"] == "422.3"
