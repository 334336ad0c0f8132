"""Install: a token becomes a store record, a reinstall keeps its feed, bad replies save nothing."""

from __future__ import annotations

import time

import pytest
import requests
from feedapp_dev.sandbox import SandboxConfig

from feedapp.feed.options import FeedOptions
from feedapp.jumpseller.installation import InstallError, complete_install
from feedapp.services import Services

STORE = "sandboxstore"


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    """A small store whose rate limits differ from Jumpseller's documented ones."""
    return SandboxConfig(product_count=5, per_second=7, per_minute=300)


def saved_keys(svc: Services) -> list[bytes]:
    """Every Redis key the app wrote."""
    return sorted(svc.redis.scan_iter(f"{svc.keys.prefix}*"))


def test_a_new_store_is_saved_with_its_details_and_tokens(svc, sandbox) -> None:
    token = sandbox.authorize()
    before = time.time()
    store = complete_install(svc, token)
    assert svc.registry.get(STORE) == store
    assert store.installed and store.installed_at >= before and store.uninstalled_at is None
    assert (store.name, store.url) == ("Tienda Sandbox", "https://sandboxstore.jumpseller.com")
    assert (store.currency, store.country, store.weight_unit) == ("CLP", "CL", "kg")
    with sandbox.state.lock:
        assert store.hooks_token == sandbox.state.store(STORE).hooks_token
    assert (store.access_token, store.refresh_token) == (
        token["access_token"],
        token["refresh_token"],
    )
    assert store.scopes == "read_products read_store"
    assert before + token["expires_in"] - 5 < store.token_expires_at < time.time() + 3600 + 5
    token = store.first_feed.token
    assert token and svc.registry.by_feed_token(token)[0].code == STORE


def test_scopes_sent_as_a_list_are_saved_as_words(svc, sandbox) -> None:
    token = sandbox.authorize()
    token["scope"] = token["scope"].split()
    assert complete_install(svc, token).scopes == "read_products read_store"


def test_a_reinstalled_store_keeps_its_feed_url_and_options(svc, sandbox) -> None:
    first = complete_install(svc, sandbox.authorize())
    options = FeedOptions(default_brand="Marca Propia", frequency_hours=6)
    svc.registry.update_feed(STORE, "1", lambda feed: setattr(feed, "options", options))
    svc.registry.mark_uninstalled(STORE, "Jumpseller refused the refresh token")
    again = complete_install(svc, sandbox.authorize())
    assert again.installed and again.uninstalled_at is None and again.uninstall_reason == ""
    assert again.first_feed.token == first.first_feed.token
    assert again.installed_at == first.installed_at
    assert again.access_token not in ("", first.access_token)
    saved = svc.registry.get(STORE)
    assert saved.first_feed.options == options
    assert saved.first_feed.token == first.first_feed.token


@pytest.mark.parametrize(
    "sandbox_config",
    [
        SandboxConfig(product_count=5, store_code="../sandboxstore"),
        SandboxConfig(product_count=5, store_code="Tienda Sandbox"),
    ],
)
def test_a_store_code_that_is_not_one_is_refused_and_nothing_is_saved(svc, sandbox) -> None:
    token = sandbox.authorize()
    with pytest.raises(InstallError, match="no valid store code; nothing was saved"):
        complete_install(svc, token)
    assert saved_keys(svc) == []


@pytest.mark.parametrize("fault", ["stopped", "error_rate", "drop_rate", "malformed_rate"])
def test_store_info_out_of_reach_is_refused_with_what_to_do(svc, sandbox, fault: str) -> None:
    token = sandbox.authorize()
    if fault == "stopped":
        sandbox.stop()
    else:
        reply = requests.post(f"{sandbox.url}/_sandbox/config", json={fault: 1.0}, timeout=5)
        reply.raise_for_status()
    with pytest.raises(InstallError) as refused:
        complete_install(svc, token)
    message = str(refused.value)
    assert "Jumpseller did not return the store's details" in message
    assert "open the app again from the Jumpseller admin" in message
    assert token["access_token"] not in message
    assert saved_keys(svc) == []


def test_the_install_request_counts_against_the_store_rate_limit(svc, sandbox) -> None:
    complete_install(svc, sandbox.authorize())
    assert svc.redis.zcard(svc.keys.rate_log(STORE)) == 1  # store/info.json, already spent
    assert svc.redis.hgetall(svc.keys.rate_limits(STORE)) == {
        b"per_second": b"7",
        b"per_minute": b"300",
    }
