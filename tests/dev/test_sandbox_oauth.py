"""The sandbox's accounts server acts like Jumpseller's OAuth: codes, tokens, rotation, errors."""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from feedapp_dev.sandbox import SandboxConfig
from sandbox_server import SandboxServer

CALLBACK = "http://127.0.0.1:5000/callback"
SCOPE = "read_products read_store"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxConfig(product_count=20, store_name="Tienda Prueba")) as server:
        yield server


def _authorize_params(**overrides: str) -> dict[str, str]:
    params = {
        "client_id": "sandbox-client",
        "redirect_uri": CALLBACK,
        "response_type": "code",
        "scope": SCOPE,
        "state": "s-123",
    }
    params.update(overrides)
    return params


def _answer(reply: requests.Response) -> dict[str, list[str]]:
    assert reply.status_code == 302
    location = reply.headers["Location"]
    assert location.startswith(CALLBACK + "?")
    return parse_qs(urlsplit(location).query)


def _code(sandbox: SandboxServer, redirect_uri: str = CALLBACK) -> str:
    params = _authorize_params(redirect_uri=redirect_uri)
    reply = requests.post(
        f"{sandbox.url}/oauth/authorize",
        data={**params, "decision": "approve"},
        allow_redirects=False,
        timeout=5,
    )
    return parse_qs(urlsplit(reply.headers["Location"]).query)["code"][0]


def _token(sandbox: SandboxServer, **fields: str) -> requests.Response:
    data = {"client_id": "sandbox-client", "client_secret": "sandbox-secret", **fields}
    return requests.post(f"{sandbox.url}/oauth/token", data=data, timeout=5)


def _exchange(sandbox: SandboxServer, code: str, redirect_uri: str = CALLBACK) -> requests.Response:
    return _token(sandbox, grant_type="authorization_code", code=code, redirect_uri=redirect_uri)


def _store_info(sandbox: SandboxServer, access_token: str) -> requests.Response:
    headers = {"Authorization": f"Bearer {access_token}"}
    return requests.get(f"{sandbox.api_url}/store/info.json", headers=headers, timeout=5)


def test_round_trip_from_approval_page_to_api(sandbox: SandboxServer) -> None:
    page = requests.get(f"{sandbox.url}/oauth/authorize", params=_authorize_params(), timeout=5)
    assert page.status_code == 200
    assert "Tienda Prueba" in page.text
    assert "read_products" in page.text and "read_store" in page.text
    assert 'value="approve"' in page.text and 'value="deny"' in page.text

    approved = requests.post(
        f"{sandbox.url}/oauth/authorize",
        data={**_authorize_params(), "decision": "approve"},
        allow_redirects=False,
        timeout=5,
    )
    answer = _answer(approved)
    assert answer["state"] == ["s-123"]

    reply = _exchange(sandbox, answer["code"][0])
    assert reply.status_code == 200
    token = reply.json()
    assert set(token) == {
        "access_token",
        "token_type",
        "expires_in",
        "refresh_token",
        "scope",
        "created_at",
    }
    assert token["token_type"] == "bearer"
    assert token["expires_in"] == 3600
    assert token["scope"] == SCOPE
    assert abs(token["created_at"] - time.time()) < 5
    assert reply.headers["Cache-Control"] == "no-store"

    info = _store_info(sandbox, token["access_token"])
    assert info.status_code == 200
    assert info.json()["store"]["code"] == "sandboxstore"


def test_deny_redirects_with_access_denied_and_state(sandbox: SandboxServer) -> None:
    denied = requests.post(
        f"{sandbox.url}/oauth/authorize",
        data={**_authorize_params(), "decision": "deny"},
        allow_redirects=False,
        timeout=5,
    )
    assert _answer(denied) == {"error": ["access_denied"], "state": ["s-123"]}


def _authorize(sandbox: SandboxServer, **overrides: str) -> requests.Response:
    """GET the authorize page with some parameters changed, without following a redirect."""
    return requests.get(
        f"{sandbox.url}/oauth/authorize",
        params=_authorize_params(**overrides),
        allow_redirects=False,
        timeout=5,
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"client_id": "someone-else"}, "Unknown client_id"),
        ({"redirect_uri": "http://127.0.0.1:5000/callback/"}, "not registered"),
        ({"redirect_uri": "https://evil.example/callback"}, "not registered"),
    ],
)
def test_bad_client_or_redirect_uri_gets_an_error_page_not_a_redirect(
    sandbox: SandboxServer, overrides: dict[str, str], message: str
) -> None:
    reply = _authorize(sandbox, **overrides)
    assert reply.status_code == 400
    assert "Location" not in reply.headers
    assert message in reply.text


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "read_products read_everything"}, "invalid_scope"),
        ({"scope": ""}, "invalid_scope"),
    ],
)
def test_bad_request_from_a_known_client_redirects_with_the_error(
    sandbox: SandboxServer, overrides: dict[str, str], error: str
) -> None:
    reply = _authorize(sandbox, **overrides)
    assert _answer(reply)["error"] == [error]


def test_code_is_single_use(sandbox: SandboxServer) -> None:
    code = _code(sandbox)
    assert _exchange(sandbox, code).status_code == 200
    again = _exchange(sandbox, code)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_code_is_bound_to_its_exact_redirect_uri(sandbox: SandboxServer) -> None:
    code = _code(sandbox)
    other = _exchange(sandbox, code, redirect_uri="urn:ietf:wg:oauth:2.0:oob")
    assert other.status_code == 400
    assert other.json()["error"] == "invalid_grant"
    assert _exchange(sandbox, code).status_code == 200


def test_code_expires(sandbox: SandboxServer) -> None:
    requests.post(f"{sandbox.url}/_sandbox/config", json={"code_ttl_seconds": 0}, timeout=5)
    try:
        code = _code(sandbox)
    finally:
        requests.post(f"{sandbox.url}/_sandbox/config", json={"code_ttl_seconds": 600}, timeout=5)
    reply = _exchange(sandbox, code)
    assert reply.status_code == 400
    assert reply.json() == {
        "error": "invalid_grant",
        "error_description": "The authorization code expired.",
    }


@pytest.mark.parametrize(
    ("fields", "status", "error"),
    [
        ({"grant_type": "authorization_code", "client_secret": "wrong"}, 401, "invalid_client"),
        ({"grant_type": "authorization_code", "client_id": "nobody"}, 401, "invalid_client"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        ({"grant_type": ""}, 400, "invalid_request"),
        ({"grant_type": "authorization_code"}, 400, "invalid_request"),
        ({"grant_type": "refresh_token"}, 400, "invalid_request"),
        ({"grant_type": "refresh_token", "refresh_token": "made-up"}, 400, "invalid_grant"),
    ],
)
def test_token_endpoint_errors_follow_rfc_6749(
    sandbox: SandboxServer, fields: dict[str, str], status: int, error: str
) -> None:
    reply = _token(sandbox, **fields)
    assert reply.status_code == status
    body = reply.json()
    assert body["error"] == error
    assert body["error_description"]


def test_client_may_authenticate_with_http_basic(sandbox: SandboxServer) -> None:
    code = _code(sandbox)
    reply = requests.post(
        f"{sandbox.url}/oauth/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK},
        auth=("sandbox-client", "sandbox-secret"),
        timeout=5,
    )
    assert reply.status_code == 200


def test_refresh_rotates_and_the_used_token_is_refused(sandbox: SandboxServer) -> None:
    first = _exchange(sandbox, _code(sandbox)).json()
    second = _token(sandbox, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert second.status_code == 200
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    assert rotated["access_token"] != first["access_token"]
    assert rotated["scope"] == SCOPE

    reused = _token(sandbox, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"

    third = _token(sandbox, grant_type="refresh_token", refresh_token=rotated["refresh_token"])
    assert third.status_code == 200

    uses = requests.get(f"{sandbox.url}/_sandbox/stats", timeout=5).json()["refresh_token_uses"]
    assert uses[first["refresh_token"]] == 2
    assert uses[rotated["refresh_token"]] == 1


def test_replaced_access_token_dies_once_its_successor_is_used(sandbox: SandboxServer) -> None:
    first = _exchange(sandbox, _code(sandbox)).json()
    second = _token(sandbox, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert _store_info(sandbox, first["access_token"]).status_code == 200
    assert _store_info(sandbox, second.json()["access_token"]).status_code == 200
    gone = _store_info(sandbox, first["access_token"])
    assert gone.status_code == 401
    assert gone.json() == {"message": "The access token was revoked."}


def test_expired_access_token_gets_401_and_refresh_still_works(sandbox: SandboxServer) -> None:
    token = _exchange(sandbox, _code(sandbox)).json()
    expired = requests.post(f"{sandbox.url}/_sandbox/tokens/expire", timeout=5)
    assert expired.json()["expired"] >= 1
    reply = _store_info(sandbox, token["access_token"])
    assert reply.status_code == 401
    assert reply.json() == {"message": "The access token expired."}
    assert 'error="invalid_token"' in reply.headers["WWW-Authenticate"]
    fresh = _token(sandbox, grant_type="refresh_token", refresh_token=token["refresh_token"])
    assert _store_info(sandbox, fresh.json()["access_token"]).status_code == 200


def test_access_token_expires_after_token_ttl() -> None:
    with SandboxServer(SandboxConfig(product_count=1, token_ttl_seconds=1)) as sandbox:
        token = sandbox.authorize()
        assert token["expires_in"] == 1
        assert _store_info(sandbox, token["access_token"]).status_code == 200
        time.sleep(1.05)
        assert _store_info(sandbox, token["access_token"]).status_code == 401


def test_auto_approve_redirects_at_once_with_code_and_state() -> None:
    with SandboxServer(SandboxConfig(product_count=1, auto_approve=True)) as sandbox:
        reply = requests.get(
            f"{sandbox.url}/oauth/authorize",
            params=_authorize_params(),
            allow_redirects=False,
            timeout=5,
        )
        answer = _answer(reply)
        assert answer["state"] == ["s-123"]
        assert _exchange(sandbox, answer["code"][0]).status_code == 200


def test_missing_or_unknown_bearer_gets_401(sandbox: SandboxServer) -> None:
    bare = requests.get(f"{sandbox.api_url}/products.json", timeout=5)
    assert bare.status_code == 401
    assert _store_info(sandbox, "not-a-token").status_code == 401


def test_scopes_are_enforced(sandbox: SandboxServer) -> None:
    token = sandbox.authorize(scope="read_products")
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    assert requests.get(f"{sandbox.api_url}/products.json", headers=headers, timeout=5).ok
    refused = requests.get(f"{sandbox.api_url}/store/info.json", headers=headers, timeout=5)
    assert refused.status_code == 403
    assert "read_store" in refused.json()["message"]
