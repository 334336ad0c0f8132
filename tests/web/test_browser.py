"""The app inside the sandbox admin in real headless Chromium: install, configure, rebuild, and a
second feed with a rule, previewed, saved, built and fetched from the address the page shows.

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
import requests
from feedapp_dev.sandbox import SandboxConfig
from live_servers import LiveStack, live_stack
from lxml import etree
from playwright.sync_api import Browser, BrowserContext, FrameLocator, Page, expect, sync_playwright
from processes import wait_for

from feedapp.builds import queueing
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
    """Sandbox (small catalogue in Spanish and Portuguese, approval by click), the app on a real
    port, one real worker."""
    settings = SandboxConfig(
        product_count=150, latency_ms=250, auto_approve=False, languages=["es", "pt"]
    )
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


def test_a_second_feed_with_a_rule_is_previewed_built_and_served(playwright, stack) -> None:
    """Add a Portuguese feed for Brazil, give it a rule, preview, save, rebuild, fetch its URL."""
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
    try:
        context = browser.new_context(locale="en-US")
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        page.goto(stack.admin_url)
        app = page.frame_locator("#app-frame")
        install_through_popup(page, app)
        first_url = app.locator("#feed-url").input_value()

        app.locator("#add-feed summary").click()
        app.locator("#name").fill("Brasil (pt)")
        app.locator("#new-language").select_option("pt")
        app.locator("#new-country").select_option("BR")
        app.locator("#add-feed-button").click()
        expect(app.locator("#feed-name")).to_have_text("Feed: Brasil (pt)")
        expect(app.locator("#feed-list .feed-row")).to_have_count(2)
        expect(app.locator("#currency-note")).to_contain_text("BRL")

        matched = add_rule_and_preview(app)
        app.locator("#save-rules").click()
        expect(app.locator("#notice")).to_contain_text("Rules saved")
        svc = stack.app.extensions["feedapp"]
        feed = svc.registry.get(STORE).feed("2")
        assert feed.rules["rules"][0]["actions"] == [{"kind": "custom_label_0", "value": "verano"}]

        wait_for(  # the builds the new feed and the rules asked for are done: a fresh one follows
            lambda: not queueing.is_queued(svc, STORE) and not queueing.is_running(svc, STORE),
            60,
            "the builds queued by the new feed and its rules",
        )
        rebuild_and_watch(app)
        new_url = app.locator("#feed-url").input_value()
        assert new_url != first_url and new_url.endswith(f"/feeds/{feed.token}.xml")
        expect(app.locator('#feed-list .feed-row[data-feed="2"] code')).to_have_text(new_url)
        labelled = wait_for(
            lambda: labelled_items(new_url), 60, "the rule's label in the new feed's XML"
        )
        assert len(labelled) == matched, (len(labelled), matched)
        assert all("Cerâmica" in title and "/pt/" in link for title, link in labelled)
        context.close()
    finally:
        browser.close()


def add_rule_and_preview(app: FrameLocator) -> int:
    """Build a rule in the editor (each button a round trip), preview it; its count of items."""
    app.locator("#add-rule").click()
    app.locator("#r0-name").fill("Verano")
    app.locator("#r0-a0-value").fill("verano")
    app.locator("#r0-add-condition").click()
    expect(app.locator("#rules-unsaved")).to_be_visible()
    expect(app.locator("#r0-name")).to_have_value("Verano")  # an edit keeps what was typed
    app.locator("#r0-c0-field").select_option("name")
    app.locator("#r0-c0-operator").select_option("contains")
    app.locator("#r0-c0-value").fill("cerâmica")
    app.locator("#preview-rules").click()
    summary = app.locator("#preview-summary")
    expect(summary).to_contain_text("The preview looked at 150 products")
    preview = app.locator("#preview-0")
    expect(preview.locator(".preview-count")).to_contain_text(re.compile(r"Matches \d+ item"))
    matched = int(preview.get_attribute("data-matched"))
    assert matched > 0
    expect(preview.locator("li").first).to_contain_text("Cerâmica")
    expect(preview.locator('[data-value-of="custom_label_0"]').first).to_have_text("verano")
    return matched


def labelled_items(url: str) -> list[tuple[str, str]]:
    """Title and link of the feed's items carrying the rule's label ([] before the rule's build)."""
    reply = requests.get(url, timeout=10)
    if reply.status_code != 200:
        return []
    ns = {"g": "http://base.google.com/ns/1.0"}
    items = etree.fromstring(reply.content).iter("item")
    return [
        (item.findtext("g:title", namespaces=ns) or "", item.findtext("g:link", namespaces=ns))
        for item in items
        if item.findtext("g:custom_label_0", namespaces=ns) == "verano"
    ]


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
    assert registry.get(STORE).first_feed.options.default_brand == ""

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

    options = registry.get(STORE).first_feed.options
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
