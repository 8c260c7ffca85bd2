"""Forwarded headers and Host: trusted only when configured so."""

from __future__ import annotations

import pytest
from defusedxml import ElementTree

from tests.factories import OR

NS = "{http://openrosa.org/xforms/xformsList}"
SPOOF = {**OR, "X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"}


def download_url(response) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)
    root = ElementTree.fromstring(response.data)
    return root.find(f"{NS}xform/{NS}downloadUrl").text


@pytest.fixture
def token(publish, make_device):
    publish("simple.md")
    return make_device("simple")[1]


def test_forwarded_headers_are_ignored_by_default(client, token):
    url = download_url(client.get(f"/key/{token}/formList", headers=SPOOF))
    assert url.startswith("http://localhost/")
    assert "evil" not in url


def test_spoofed_host_does_not_reach_urls_when_base_url_is_set(app, client, token):
    app.config["BASE_URL"] = "https://taphuan.syt.gov.vn"
    url = download_url(
        client.get(f"/key/{token}/formList", headers={**SPOOF, "Host": "evil.example"})
    )
    assert url.startswith("https://taphuan.syt.gov.vn/key/")


@pytest.fixture
def behind_proxy(app_config):
    app_config["PROXY_HOPS"] = 1
    return app_config


def test_one_trusted_proxy_sets_scheme_and_host(behind_proxy, client, token):
    url = download_url(
        client.get(
            f"/key/{token}/formList",
            headers={**OR, "X-Forwarded-Proto": "https", "X-Forwarded-Host": "taphuan.vn"},
        )
    )
    assert url.startswith("https://taphuan.vn/key/")


@pytest.fixture
def allowed(app_config):
    app_config["ALLOWED_HOSTS"] = "taphuan.syt.gov.vn, localhost"
    return app_config


def test_hosts_outside_the_allowed_list_are_refused(allowed, client, token):
    assert client.get(f"/key/{token}/formList", headers=OR).status_code == 200
    refused = client.get(f"/key/{token}/formList", headers={**OR, "Host": "evil.example"})
    assert refused.status_code == 400
    assert client.get("/login", headers={"Host": "evil.example"}).status_code == 400
