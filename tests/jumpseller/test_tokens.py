"""Tokens: refresh before expiry, rotation saved first, one refresh per store across processes."""

from __future__ import annotations

import multiprocessing
import time

import pytest
import requests
from feedapp_dev.sandbox import SandboxConfig

from config import Config
from feedapp.jumpseller.tokens import OAuthClient, StoreRevoked, TokenKeeper
from feedapp.services import Services


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(product_count=20, token_ttl_seconds=3)


def keeper(svc: Services) -> TokenKeeper:
    return TokenKeeper(svc.registry, OAuthClient.from_config(svc.config))


def stats(sandbox) -> dict:
    return requests.get(f"{sandbox.url}/_sandbox/stats", timeout=5).json()


def test_refreshes_before_expiry_and_saves_rotated_token(svc, installed, sandbox) -> None:
    first = installed.access_token
    time.sleep(2.5)  # tokens live 3 s here: now inside the refresh margin
    token = keeper(svc).access_token(installed.code)
    assert token != first
    stored = svc.registry.get(installed.code)
    assert stored.access_token == token
    assert stored.refresh_token != installed.refresh_token
    reply = requests.get(
        f"{sandbox.api_url}/store/info.json",
        timeout=5,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert reply.status_code == 200
    assert stats(sandbox)["max_refresh_token_uses"] == 1


def test_fresh_token_is_reused(svc, installed, sandbox) -> None:
    svc.registry.save_tokens(
        installed.code, installed.access_token, installed.refresh_token, time.time() + 3600
    )
    assert keeper(svc).access_token(installed.code) == installed.access_token
    assert stats(sandbox)["refresh_token_uses"] == {}


def test_refused_refresh_token_marks_store_uninstalled(svc, installed, sandbox) -> None:
    keeper(svc).access_token(installed.code, stale=installed.access_token)  # rotates it
    svc.registry.save_tokens(installed.code, "dead", installed.refresh_token, 0)  # the used one
    with pytest.raises(StoreRevoked, match=installed.code):
        keeper(svc).access_token(installed.code)
    assert not svc.registry.get(installed.code).installed


def _race(config: Config, code: str, barrier, out) -> None:
    svc = Services(config)
    barrier.wait()
    out.put(keeper(svc).access_token(code))


def test_two_processes_racing_refresh_once(svc, installed, sandbox) -> None:
    time.sleep(2.5)
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(4), ctx.Queue()
    procs = [
        ctx.Process(target=_race, args=(svc.config, installed.code, barrier, out)) for _ in range(4)
    ]
    for p in procs:
        p.start()
    tokens = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    assert all(p.exitcode == 0 for p in procs)
    s = stats(sandbox)
    assert sum(s["refresh_token_uses"].values()) == 1  # one refresh, the others re-read it
    # Each process got a working token, and the store works afterwards.
    current = svc.registry.get(installed.code)
    assert current.installed
    assert set(tokens) == {current.access_token}
    reply = requests.get(
        f"{sandbox.api_url}/products/count.json",
        timeout=5,
        headers={"Authorization": f"Bearer {current.access_token}"},
    )
    assert reply.status_code == 200


def test_authorize_url_carries_state_and_scopes(live_config) -> None:
    url = OAuthClient.from_config(live_config).authorize_url("st4te")
    assert "state=st4te" in url and "scope=read_products+read_store" in url
    assert "redirect_uri=http%3A%2F%2F127.0.0.1%3A5000%2Fcallback" in url
