"""Decrypting ODK encrypted submissions (the scheme of ODK Collect's EncryptionUtils).

* The device makes a random 256-bit AES key and sends it RSA-encrypted
  (``RSA/NONE/OAEPWithSHA256AndMGF1Padding``) as ``base64EncryptedKey``.
* Each file (media in envelope order, ``submission.xml`` last) is AES-256-CFB with PKCS#5
  padding. The IVs derive from ``md5(instanceID ‖ key)``: before the i-th file, byte
  ``i mod 16`` of that seed is incremented, cumulatively.

Only the private key's holder can read the data; the server stores the envelope and ``.enc``
files verbatim and decrypts only for an export the administrator asks for with the key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from cryptography.hazmat.decrepit.ciphers.modes import CFB  # legacy mode ODK requires
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

from server.errors import DecryptionFailed


def load_private_key(pem: bytes) -> rsa.RSAPrivateKey:
    """Read an unencrypted PEM private key (PKCS#1 or PKCS#8).

    :param pem: the key file's bytes.
    :return: the key.
    :raises DecryptionFailed: if it is not an RSA private key.
    """
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise DecryptionFailed(reason="key_unreadable") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise DecryptionFailed(reason="not_rsa")
    return key


def decrypt_submission_key(key: rsa.RSAPrivateKey, encrypted_b64: str) -> bytes:
    """Recover a submission's AES key.

    Android's OAEPWithSHA256AndMGF1Padding uses SHA-256 in MGF1 as well; a JCE-style SHA-1
    MGF1 is tried second for keys produced elsewhere.

    :param key: the form's private key.
    :param encrypted_b64: ``base64EncryptedKey`` of the envelope.
    :return: the 32-byte AES key.
    :raises DecryptionFailed: wrong key, or damaged data.
    """
    try:
        encrypted = base64.b64decode(encrypted_b64, validate=False)
    except (binascii.Error, ValueError) as exc:
        raise DecryptionFailed(reason="key_not_base64") from exc
    for mgf_hash in (hashes.SHA256(), hashes.SHA1()):  # noqa: S303 (interoperability, see above)
        try:
            aes_key = key.decrypt(
                encrypted,
                padding.OAEP(mgf=padding.MGF1(mgf_hash), algorithm=hashes.SHA256(), label=None),
            )
        except ValueError:
            continue
        if len(aes_key) == 32:
            return aes_key
    raise DecryptionFailed(reason="wrong_key")


def submission_ivs(instance_id: str, aes_key: bytes, count: int) -> list[bytes]:
    """The IV of each file of a submission, in envelope order.

    :param instance_id: the envelope's instanceID.
    :param aes_key: the submission's AES key.
    :param count: number of files (media files + 1 for submission.xml).
    :return: ``count`` 16-byte IVs.
    """
    seed = bytearray(hashlib.md5(instance_id.encode("utf-8") + aes_key).digest())  # noqa: S324
    ivs = []
    for i in range(count):
        seed[i % 16] = (seed[i % 16] + 1) % 256
        ivs.append(bytes(seed))
    return ivs


def decrypt_file(aes_key: bytes, iv: bytes, ciphertext: bytes) -> bytes:
    """Decrypt one ``.enc`` file (AES-256-CFB, PKCS#5 padding).

    :param aes_key: the submission's AES key.
    :param iv: the file's IV from :func:`submission_ivs`.
    :param ciphertext: the file's bytes.
    :return: the plaintext.
    :raises DecryptionFailed: if the padding is wrong (wrong key or damaged file).
    """
    decryptor = Cipher(algorithms.AES(aes_key), CFB(iv)).decryptor()
    plain = decryptor.update(ciphertext) + decryptor.finalize()
    pad = plain[-1] if plain else 0
    if not 1 <= pad <= 16 or plain[-pad:] != bytes([pad]) * pad:
        raise DecryptionFailed(reason="bad_padding")
    return plain[:-pad]


def encrypted_key_of(envelope_root) -> str | None:
    """The ``base64EncryptedKey`` text of a parsed envelope, or None.

    :param envelope_root: the envelope's root element.
    :return: the text.
    """
    for child in envelope_root:
        if child.tag.rsplit("}", 1)[-1] == "base64EncryptedKey":
            return (child.text or "").strip() or None
    return None
