"""Digest pieces: header parsing and nonces."""

from server.domain.digest import check_nonce, make_nonce, parse_authorization


def test_parse_digest_header_with_quotes_commas_and_escapes():
    scheme, params = parse_authorization(
        'Digest username="a\\"b", realm="taphuan", nonce="1.ab", '
        'uri="/submission?deviceID=collect%3Aa,b", qop=auth, nc=00000002, cnonce="c", '
        "algorithm=MD5"
    )
    assert scheme == "digest"
    assert params["username"] == 'a"b'
    assert params["uri"] == "/submission?deviceID=collect%3Aa,b"
    assert (params["qop"], params["nc"], params["algorithm"]) == ("auth", "00000002", "MD5")


def test_parse_basic_header():
    assert parse_authorization("Basic YTpi") == ("basic", {"token": "YTpi"})


def test_nonce_lifetime_and_signature():
    nonce = make_nonce("secret", 1000.0)
    assert check_nonce(nonce, secret="secret", now=1100.0, lifetime=300).valid
    stale = check_nonce(nonce, secret="secret", now=1400.0, lifetime=300)
    assert (stale.valid, stale.stale) == (False, True)
    forged = check_nonce(nonce, secret="other", now=1100.0, lifetime=300)
    assert (forged.valid, forged.stale) == (False, False)
    assert not check_nonce("garbage", secret="secret", now=1100.0, lifetime=300).valid


def test_nonces_of_one_second_differ():
    """Two clients challenged in the same second must not share (nonce, nc) pairs."""
    first, second = make_nonce("secret", 1000.0), make_nonce("secret", 1000.0)
    assert first != second
    assert check_nonce(second, secret="secret", now=1000.0, lifetime=300).issued_at == 1000
