"""The /_sandbox control surface, webhook deliveries and the admin page that frames the app."""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from collections.abc import Iterator

import pytest
import requests
from feedapp_dev.sandbox import SandboxConfig
from feedapp_dev.sandbox.catalogue import generate_product, product_id
from flask import Flask, request
from sandbox_server import SandboxServer
from werkzeug.serving import make_server


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    settings = SandboxConfig(product_count=40, per_second=1000, app_url="http://127.0.0.1:5000/")
    with SandboxServer(settings) as server:
        yield server


@pytest.fixture
def headers(sandbox: SandboxServer) -> dict[str, str]:
    token = sandbox.authorize(scope="read_products read_store read_hooks write_hooks")
    return {"Authorization": f"Bearer {token['access_token']}"}


def _product(sandbox: SandboxServer, headers: dict[str, str], pid: int) -> requests.Response:
    return requests.get(f"{sandbox.api_url}/products/{pid}.json", headers=headers, timeout=5)


def test_settings_read_and_change(sandbox: SandboxServer) -> None:
    url = f"{sandbox.url}/_sandbox/config"
    current = requests.get(url, timeout=5).json()
    assert current["client_id"] == "sandbox-client"
    assert current["per_second"] == 1000
    changed = requests.post(
        url, json={"latency_ms": 5, "error_rate": 0, "auto_approve": True}, timeout=5
    )
    assert changed.status_code == 200
    assert changed.json()["latency_ms"] == 5 and changed.json()["auto_approve"] is True
    assert sandbox.state.config.latency_ms == 5


@pytest.mark.parametrize(
    "body", [{"no_such": 1}, {"per_second": "fast"}, {"auto_approve": 1}, {"redirect_uris": "x"}]
)
def test_bad_settings_are_refused(sandbox: SandboxServer, body: dict) -> None:
    reply = requests.post(f"{sandbox.url}/_sandbox/config", json=body, timeout=5)
    assert reply.status_code == 400
    assert reply.json()["message"]
    assert sandbox.state.config.per_second == 1000


def test_edit_product_shows_in_the_api_with_a_new_updated_at(
    sandbox: SandboxServer, headers: dict[str, str]
) -> None:
    pid = product_id(3)
    before = _product(sandbox, headers, pid).json()["product"]
    edited = requests.post(
        f"{sandbox.url}/_sandbox/stores/sandboxstore/products/{pid}",
        json={"price": 4990, "name": "Taza Editada"},
        timeout=5,
    )
    assert edited.status_code == 200
    after = _product(sandbox, headers, pid).json()["product"]
    assert after["price"] == 4990 and after["name"] == "Taza Editada"
    assert after["updated_at"] > before["updated_at"]
    assert {k: v for k, v in after.items() if k not in ("price", "name", "updated_at")} == {
        k: v for k, v in before.items() if k not in ("price", "name", "updated_at")
    }
    missing = requests.post(
        f"{sandbox.url}/_sandbox/stores/sandboxstore/products/1", json={}, timeout=5
    )
    assert missing.status_code == 404


def test_add_and_delete_products(sandbox: SandboxServer, headers: dict[str, str]) -> None:
    base = f"{sandbox.url}/_sandbox/stores/sandboxstore/products"
    added = requests.post(
        base,
        json={"name": "Poncho Nuevo", "price": 39990, "images": [{"position": 1, "url": "u"}]},
        timeout=5,
    ).json()["product"]
    assert added["id"] > product_id(39)
    assert added["images"][0]["id"] > 0
    count = f"{sandbox.api_url}/products/count.json"
    assert requests.get(count, headers=headers, timeout=5).json() == {"count": 41}
    last = requests.get(
        f"{sandbox.api_url}/products.json",
        params={"page": 1, "limit": 100},
        headers=headers,
        timeout=5,
    ).json()[-1]["product"]
    assert last["name"] == "Poncho Nuevo" and last["permalink"].startswith("poncho-nuevo")

    gone = requests.delete(f"{base}/{product_id(0)}", timeout=5)
    assert gone.status_code == 200
    assert _product(sandbox, headers, product_id(0)).status_code == 404
    assert requests.get(count, headers=headers, timeout=5).json() == {"count": 40}
    assert requests.delete(f"{base}/{product_id(0)}", timeout=5).status_code == 404


def test_reset_regenerates_the_catalogue(sandbox: SandboxServer, headers: dict[str, str]) -> None:
    requests.post(
        f"{sandbox.url}/_sandbox/stores/sandboxstore/products/{product_id(1)}",
        json={"price": 1},
        timeout=5,
    )
    reply = requests.post(
        f"{sandbox.url}/_sandbox/stores/sandboxstore/reset",
        json={"product_count": 12, "seed": 5},
        timeout=5,
    )
    assert reply.json() == {"code": "sandboxstore", "count": 12, "seed": 5}
    assert _product(sandbox, headers, product_id(1)).json() == {
        "product": generate_product(1, seed=5).product
    }
    bad = requests.post(
        f"{sandbox.url}/_sandbox/stores/sandboxstore/reset",
        json={"product_count": "many"},
        timeout=5,
    )
    assert bad.status_code == 400


def test_store_view_shows_hooks_token(sandbox: SandboxServer, headers: dict[str, str]) -> None:
    view = requests.get(f"{sandbox.url}/_sandbox/stores/sandboxstore", timeout=5).json()
    info = requests.get(f"{sandbox.api_url}/store/info.json", headers=headers, timeout=5).json()
    assert view["store"]["hooks_token"] == info["store"]["hooks_token"]
    assert view["count"] == 40


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict]]]:
    """A tiny app that records the webhooks it receives."""
    received: list[dict] = []
    app = Flask("receiver")

    @app.post("/hooks")
    def hooks() -> tuple[str, int]:
        received.append({"headers": dict(request.headers), "body": request.get_data()})
        return "", 204

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hooks", received
    server.shutdown()
    thread.join()
    server.server_close()


def _wait_for(items: list, count: int) -> None:
    deadline = time.monotonic() + 5
    while len(items) < count and time.monotonic() < deadline:
        time.sleep(0.02)


def test_product_changes_fire_signed_webhooks(
    sandbox: SandboxServer, headers: dict[str, str], receiver: tuple[str, list[dict]]
) -> None:
    url, received = receiver
    for event in ("product_updated", "product_stock_updated", "product_deleted"):
        hook = {"hook": {"event": event, "url": url}}
        requests.post(f"{sandbox.api_url}/hooks.json", headers=headers, json=hook, timeout=5)
    pid = product_id(2)
    requests.post(
        f"{sandbox.url}/_sandbox/stores/sandboxstore/products/{pid}", json={"stock": 3}, timeout=5
    )
    _wait_for(received, 2)
    assert sorted(r["headers"]["Jumpseller-Event"] for r in received) == [
        "product_stock_updated",
        "product_updated",
    ]
    view = requests.get(f"{sandbox.url}/_sandbox/stores/sandboxstore", timeout=5).json()
    token = view["store"]["hooks_token"]
    for delivery in received:
        expected = hmac.new(token.encode(), delivery["body"], hashlib.sha256).digest()
        assert delivery["headers"]["Jumpseller-Hmac-Sha256"] == base64.b64encode(expected).decode()
        assert delivery["headers"]["Jumpseller-Store-Code"] == "sandboxstore"
        assert b'"stock": 3' in delivery["body"] and f'"id": {pid}'.encode() in delivery["body"]

    requests.delete(f"{sandbox.url}/_sandbox/stores/sandboxstore/products/{pid}", timeout=5)
    _wait_for(received, 3)
    assert received[-1]["headers"]["Jumpseller-Event"] == "product_deleted"
    deadline = time.monotonic() + 5
    while len(sandbox.state.snapshot()["webhooks"]) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    log = requests.get(f"{sandbox.url}/_sandbox/stats", timeout=5).json()["webhooks"]
    assert sorted(entry["status"] for entry in log) == [204, 204, 204]


def test_admin_page_frames_the_app_from_another_origin(sandbox: SandboxServer) -> None:
    root = requests.get(sandbox.url + "/", allow_redirects=False, timeout=5)
    assert root.status_code == 302 and root.headers["Location"].endswith("/admin")
    page = requests.get(f"{sandbox.url}/admin", timeout=5)
    assert page.status_code == 200
    assert '<iframe id="app-frame" title="App" src="http://127.0.0.1:5000/"' in page.text
    assert "Tienda Sandbox" in page.text
    assert "<nav>" in page.text
    assert "http" not in page.text.replace("http://127.0.0.1:5000/", "")  # no external assets
