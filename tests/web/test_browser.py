"""The app inside the sandbox admin in real headless Chromium: install, configure, rebuild.

The sandbox admin (localhost) frames the app (127.0.0.1), another site, as Jumpseller's admin does.
The second run blocks every cookie of the app inside that frame, partitioned ones included, so the
pages must carry on with their signed page token alone.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from feedapp_dev.sandbox import SandboxConfig
from live_servers import LiveStack, live_stack
from playwright.sync_api import Browser, BrowserContext, FrameLocator, Page, expect, sync_playwright

from feedapp.web.security import open_session

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STORE = "sandboxstore"
TIMEOUT_MS = 20_000
#: Browser locale -> the page's language and the options heading it must show.
LOCALES = (
    ("es-CL", "es", "Opciones del feed", "Tienda: Tienda Sandbox"),
    ("en-US", "en", "Feed options", "Store: Tienda Sandbox"),
    ("pt-BR", "pt", "Opções do feed", "Loja: Tienda Sandbox"),
)


@pytest.fixture(scope="module")
def playwright() -> Iterator[object]:
    """Playwright driving Debian's Chromium; a missing browser fails the tests, never skips."""
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: install Debian's chromium package"
    with sync_playwright() as driver:
        yield driver


@pytest.fixture
def stack(config, redis, tmp_path: Path) -> Iterator[LiveStack]:
    """Sandbox (small catalogue, approval by click), the app on a real port, one real worker."""
    settings = SandboxConfig(product_count=150, latency_ms=250, auto_approve=False)
    with live_stack(config, redis, settings, worker_log=tmp_path / "worker.log") as live:
        yield live


def test_merchant_installs_configures_and_rebuilds_inside_the_admin(playwright, stack) -> None:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
    try:
        context = browser.new_context(locale="es-CL")
        merchant_session(context, stack, cookies_blocked=False)
        context.close()
        page_in_each_language(browser, stack)
    finally:
        browser.close()


def test_everything_works_with_the_apps_cookies_blocked_in_the_frame(
    playwright,
    stack: LiveStack,
    tmp_path: Path,
) -> None:
    profile = tmp_path / "chromium-profile"
    (profile / "Default").mkdir(parents=True)
    # Third-party cookies off, and every cookie of the app blocked when framed by the admin
    # (this also stops partitioned cookies, which "block third-party cookies" lets through).
    blocked = {"http://127.0.0.1:*,http://localhost:*": {"setting": 2}}
    prefs = {
        "profile": {
            "cookie_controls_mode": 1,
            "block_third_party_cookies": True,
            "content_settings": {"exceptions": {"cookies": blocked}},
        }
    }
    (profile / "Default" / "Preferences").write_text(json.dumps(prefs))
    context = playwright.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, args=ARGS, headless=True, locale="en-US"
    )
    try:
        merchant_session(context, stack, cookies_blocked=True)
    finally:
        context.close()


def merchant_session(context: BrowserContext, stack: LiveStack, *, cookies_blocked: bool) -> None:
    """Install through the popup, save options (one rejected save first), reload, rebuild."""
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(stack.admin_url)
    app = page.frame_locator("#app-frame")
    install_through_popup(page, app)
    frame = page.locator("#app-frame").element_handle().content_frame()
    probe = frame.evaluate(
        "() => { document.cookie = 'probe=1; SameSite=None; Secure; Partitioned; Path=/';"
        " return document.cookie; }"
    )
    assert (probe == "") if cookies_blocked else ("probe=1" in probe), probe

    save_options(app, stack)
    if cookies_blocked:
        frame.evaluate("location.reload()")  # the frame's URL carries its page token
    else:
        page.reload()  # a fresh admin load: only the (partitioned) cookie knows the store
    expect(app.locator("#store-name")).to_contain_text("Tienda Sandbox")
    expect(app.locator("#default_brand")).to_have_value("Marca Prueba")
    expect(app.locator("#frequency_hours")).to_have_value("6")
    expect(app.locator("#include_out_of_stock")).not_to_be_checked()

    rebuild_and_watch(app)
    app.locator("#status-finished a").click()
    expect(app.locator("#problems .problem").first).to_be_visible()

    iframe_requests = [r for r in stack.app_server.seen if r.dest in ("iframe", "empty")]
    with_cookie = [r for r in iframe_requests if "feedapp_session=" in r.cookie]
    if cookies_blocked:
        assert all(r.cookie == "" for r in iframe_requests), with_cookie
        page.reload()  # without a cookie a fresh admin load cannot know the store
        expect(app.locator("#connect-button")).to_be_visible()
    else:
        assert with_cookie, "the partitioned session cookie never came back"


def page_in_each_language(browser: Browser, stack: LiveStack) -> None:
    """The installed store's page, one load per browser locale, speaks that language."""
    with stack.app.test_request_context():
        token = open_session(STORE).page_token
    for locale, lang, heading, store_line in LOCALES:
        context = browser.new_context(locale=locale)
        try:
            page = context.new_page()
            page.goto(f"{stack.app_server.url}/?t={token}")
            expect(page.locator("html")).to_have_attribute("lang", lang)
            expect(page.locator("#options h2")).to_have_text(heading)
            expect(page.locator("#store-name")).to_have_text(store_line)
        finally:
            context.close()


def install_through_popup(page: Page, app: FrameLocator) -> None:
    """Press Connect in the frame, approve in the Jumpseller popup, land on the settings."""
    connect = app.locator("#connect-button")
    expect(connect).to_be_visible()
    with page.expect_popup() as opened:
        connect.click()
    popup = opened.value
    with popup.expect_event("close"):  # the callback page hands over, then closes the popup
        popup.locator("button.approve").click()
    expect(app.locator("#store-name")).to_contain_text("Tienda Sandbox")
    expect(app.locator("#options-form")).to_be_visible()


def save_options(app: FrameLocator, stack: LiveStack) -> None:
    """A rejected save changes nothing and shows the message; the corrected save is kept."""
    registry = stack.app.extensions["feedapp"].registry
    app.locator("#default_brand").fill("Marca Prueba")
    app.locator("#title_pattern").fill("{options}")
    app.locator("#save-options").click()
    expect(app.locator('[data-error-for="title_pattern"]')).to_be_visible()
    expect(app.locator("#default_brand")).to_have_value("Marca Prueba")
    assert registry.get(STORE).options.default_brand == ""

    app.locator("#title_pattern").fill("{name} · {options}")
    app.locator("#include_out_of_stock").uncheck()
    app.locator("#frequency_hours").select_option("6")
    app.locator("#condition").select_option("used")
    picker = app.locator("#default_google_category")
    picker.fill("")
    picker.press_sequentially("shoes", delay=20)
    suggestion = app.locator("#taxonomy-options option").first
    expect(suggestion).to_have_attribute("value", re.compile(r"^\d+ - .*Shoes"))
    choice = suggestion.get_attribute("value")
    picker.fill(choice)
    app.locator("#category-map summary").click()
    app.locator("#category-map input[data-taxonomy]").first.fill("166 - Apparel & Accessories")
    app.locator("#save-options").click()
    expect(app.locator("#notice")).to_be_visible()

    options = registry.get(STORE).options
    assert options.default_brand == "Marca Prueba" and options.frequency_hours == 6
    assert not options.include_out_of_stock and options.condition == "used"
    assert options.default_google_category == choice.split(" - ")[0]
    assert list(options.category_map.values()) == ["166"]


def rebuild_and_watch(app: FrameLocator) -> None:
    """Press "Rebuild now" and follow the live status until the build is published."""
    app.locator("#rebuild-now").click()
    panel = app.locator("#status-panel")
    expect(panel).to_have_attribute("data-state", re.compile("queued|running"))
    seen: list[tuple[str, str]] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        box = app.locator("#status-box")
        seen.append((box.get_attribute("data-state"), box.get_attribute("data-percent")))
        if seen[-1][0] in ("ok", "failed"):
            break
        time.sleep(0.1)
    # On failure, say why the build failed: the panel shows the merchant's and operator's text.
    assert seen[-1] == ("ok", "100"), (seen[-5:], panel.inner_text())
    assert any(state == "running" for state, _ in seen), seen
    items = int(app.locator("#status-box").get_attribute("data-items"))
    assert items > 0
    expect(app.locator("#status-finished")).to_be_visible()
