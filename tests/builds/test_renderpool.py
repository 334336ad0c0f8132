"""Rendering on every core gives the bytes and problems of rendering in the build's own process
(real Redis, the sandbox over HTTP, forked worker processes)."""

from __future__ import annotations

import pytest
from feedapp_dev.sandbox import SandboxConfig

from feedapp.builds import builder, renderpool
from feedapp.builds.status import feed_diagnostics
from feedapp.feed.publishing import published_feed
from feedapp.feed.rules import Action, Condition, Rule, dump_rules


def served(svc, code: str) -> dict[str, tuple[bytes, dict | None]]:
    """Every feed's live bytes and problem list."""
    return {
        feed.id: (
            published_feed(svc.feeds_dir, code, feed.id).xml_path.read_bytes(),
            feed_diagnostics(svc.registry, code, feed.id),
        )
        for feed in svc.registry.get(code).feeds
    }


def pool_starts(monkeypatch) -> list[int]:
    """Count the render pools started (each forks its processes)."""
    started: list[int] = []
    real = renderpool.RenderPool.__init__

    def counting(self, *args, **kwargs) -> None:
        real(self, *args, **kwargs)
        started.append(self.processes)

    monkeypatch.setattr(renderpool.RenderPool, "__init__", counting)
    return started


@pytest.mark.parametrize(
    "sandbox_config", [SandboxConfig(product_count=600, languages=["es", "pt"], hostile_share=0.2)]
)
def test_the_pool_renders_what_the_build_would_render_itself(
    svc, installed, sandbox, monkeypatch
) -> None:
    code = installed.code
    labels = Rule("Label", (Condition("price", ">=", 10000),), (Action("custom_label_0", "x"),))
    rules = dump_rules([labels])
    svc.registry.update_feed(code, "1", lambda feed: setattr(feed, "rules", rules))
    svc.registry.add_feed(code, "Brasil", "pt", "BR")
    started = pool_starts(monkeypatch)

    monkeypatch.setattr(renderpool, "MIN_PRODUCTS", 10**9)  # every render in this process
    builder.build_feed(svc, code)
    alone = served(svc, code)
    assert started == []

    (svc.feeds_dir / code / "snapshot.sqlite").unlink()
    monkeypatch.setattr(renderpool, "MIN_PRODUCTS", 100)  # the first build renders in a pool
    builder.build_feed(svc, code)
    assert served(svc, code) == alone
    assert len(started) == 2  # one per language paged

    # A change of options: every product rendered again, from the snapshot, in a pool.
    def retitle(feed) -> None:
        feed.options.title_pattern = "{name} | {brand}"

    svc.registry.update_feed(code, "1", retitle)
    builder.build_feed(svc, code)
    pooled = served(svc, code)
    assert len(started) == 3 and pooled["1"][0] != alone["1"][0] and pooled["2"] == alone["2"]
    monkeypatch.setattr(renderpool, "MIN_PRODUCTS", 10**9)
    (svc.feeds_dir / code / "snapshot.sqlite").unlink()
    builder.build_feed(svc, code)
    assert served(svc, code) == pooled and len(started) == 3
