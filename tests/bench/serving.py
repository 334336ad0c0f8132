"""Serving: requests/s of full and 304 answers on a 100k-item feed, gunicorn beside a plain server.

The app runs as deployed without a proxy (gunicorn, 2 workers x 4 threads, ``send_file``); the
reference is Python's own ``http.server`` (ThreadingHTTPServer, HTTP/1.1) on the same files, in
a process of its own. The load generator (8 keep-alive connections) is a third process; all three
share this machine's cores, so the figures compare servers, not network capacity.
"""

from __future__ import annotations

import http.client
import json
import statistics
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from feedapp.feed.publishing import publish
from tests.bench import render
from tests.bench.report import Row, Section, progress
from tests.bench.stack import Bench, free_port
from tests.processes import ROOT, wait_for

SECONDS, QUICK_SECONDS = 2.0, 0.3
ROUNDS, QUICK_ROUNDS = 3, 1
CONNECTIONS = 8
GUNICORN = ("--workers", "2", "--threads", "4", "--log-level", "warning", "feedapp:create_app()")
STATIC = ("-b", "127.0.0.1", "-p", "HTTP/1.1")


class Server:
    """A server process in its own session, ready once its port answers."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path, port: int) -> None:
        self._out = open(log, "ab")
        self.popen = subprocess.Popen(
            args,
            env=env,
            cwd=ROOT,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.url = f"http://127.0.0.1:{port}"
        wait_for(lambda: self._answers(port, log), 30, f"{args[0]} on port {port}", every=0.1)

    def _answers(self, port: int, log: Path) -> bool:
        if self.popen.poll() is not None:
            raise RuntimeError(f"{self.popen.args[0]} exited; see {log}")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("HEAD", "/")
            conn.getresponse().read()
            return True
        except OSError:
            return False
        finally:
            conn.close()

    def stop(self) -> None:
        """Terminate and reap."""
        self.popen.terminate()
        try:
            self.popen.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
        self._out.close()


def prepare_feed(bench: Bench) -> tuple[str, Path, int]:
    """Publish the render benchmark's feed (or render one); its token, folder and items."""
    if bench.rendered is None:
        target = render.QUICK_ITEMS if bench.quick else render.ITEMS
        done = render.render_pass(bench.feeds_dir, target, "serve")
        bench.rendered = (done.feed_tmp, done.items)
    tmp, items = bench.rendered
    published = publish(bench.feeds_dir, render.STORE, tmp, items)
    bench.rendered = None
    store = bench.svc.registry.save(render.bench_store())
    return store.first_feed.token, tmp.parent, published.items


def head(url: str, headers: dict[str, str]) -> dict[str, str]:
    """One GET's headers (body read and dropped): the validators to send back."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        conn.request("GET", parts.path, headers=headers)
        reply = conn.getresponse()
        while reply.read(1 << 20):
            pass
        return {k.lower(): v for k, v in reply.getheaders()}
    finally:
        conn.close()


def measure(bench: Bench, url: str, headers: dict[str, str], expect: int) -> dict:
    """One bounded load run in its own process."""
    args = [sys.executable, "-m", "tests.bench.loadgen", url, "--expect", str(expect)]
    args += ["--seconds", str(QUICK_SECONDS if bench.quick else SECONDS)]
    args += ["--connections", str(CONNECTIONS)]
    for name, value in headers.items():
        args += ["--header", f"{name}: {value}"]
    out = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=True, timeout=120)
    result = json.loads(out.stdout)
    if result["unexpected_status"] or result["errors"]:
        raise RuntimeError(f"{url} {headers}: wrong answers under load: {result}")
    return result


def start_servers(bench: Bench, folder: Path) -> tuple[Server, Server]:
    """gunicorn as deployed on PUBLIC_URL's port, and http.server on the feed's folder."""
    app_port = int(str(bench.config.PUBLIC_URL).rsplit(":", 1)[1])
    gunicorn = Server(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{app_port}", *GUNICORN],
        bench.env,
        bench.log("gunicorn"),
        app_port,
    )
    static_port = free_port()
    try:
        static = Server(
            [sys.executable, "-m", "http.server", *STATIC, "-d", str(folder), str(static_port)],
            bench.env,
            bench.log("static"),
            static_port,
        )
    except BaseException:
        gunicorn.stop()
        raise
    return gunicorn, static


def cases(app: str, static: str) -> list[tuple[str, str, str, dict[str, str], int]]:
    """(server, answer, url, headers, expected status) for each measurement."""
    gz = {"Accept-Encoding": "gzip"}
    etag = head(app, gz)["etag"]
    modified = head(f"{static}/feed.xml", {})["last-modified"]
    return [
        ("gunicorn", "200 identity", app, {"Accept-Encoding": "identity"}, 200),
        ("gunicorn", "200 gzip", app, gz, 200),
        ("gunicorn", "304", app, {**gz, "If-None-Match": etag}, 304),
        ("static", "200 identity", f"{static}/feed.xml", {}, 200),
        ("static", "200 gzip", f"{static}/feed.xml.gz", {}, 200),
        ("static", "304", f"{static}/feed.xml", {"If-Modified-Since": modified}, 304),
    ]


def run(bench: Bench) -> Section:
    """Each (server, answer) pair measured in interleaved rounds; the median requests/s."""
    token, folder, items = prepare_feed(bench)
    gunicorn, static = start_servers(bench, folder)
    results: dict[tuple[str, str], list[dict]] = {}
    try:
        todo = cases(f"{gunicorn.url}/feeds/{token}.xml", static.url)
        for round_no in range(QUICK_ROUNDS if bench.quick else ROUNDS):
            for server, answer, url, headers, status in todo:
                results.setdefault((server, answer), []).append(
                    measure(bench, url, headers, status)
                )
            progress(f"serving round {round_no + 1} done")
    finally:
        gunicorn.stop()
        static.stop()
    rps = {k: statistics.median(r["requests_per_second"] for r in v) for k, v in results.items()}
    sizes = {
        "identity": (folder / "feed.xml").stat().st_size / 2**20,
        "gzip": (folder / "feed.xml.gz").stat().st_size / 2**20,
    }
    runs = f"{len(results[('gunicorn', '304')])} x {QUICK_SECONDS if bench.quick else SECONDS} s"
    runs += f", {CONNECTIONS} conns"
    rows = [
        Row(
            f"serve 200 {kind} ({sizes[kind]:.1f} MiB)",
            f"gunicorn {rps[('gunicorn', f'200 {kind}')]:,.1f} req/s; "
            f"static {rps[('static', f'200 {kind}')]:,.1f} req/s",
            runs,
        )
        for kind in ("identity", "gzip")
    ]
    full = max(rps[("gunicorn", "200 identity")], rps[("gunicorn", "200 gzip")])
    rows.append(
        Row(
            "serve 304",
            f"gunicorn {rps[('gunicorn', '304')]:,.0f} req/s "
            f"({rps[('gunicorn', '304')] / full:.1f}x its 200s); "
            f"static {rps[('static', '304')]:,.0f} req/s",
            runs,
            "serve.304",
            rps[("gunicorn", "304")] / full,
        )
    )
    notes = [
        f"serving: a feed of {items:,} items (the render benchmark's output, published by the "
        "app's publish()); gunicorn 2 workers x 4 threads serving 'feedapp:create_app()' with "
        "no proxy; static = python -m http.server -p HTTP/1.1 on the same files (its 304 answers "
        "If-Modified-Since, gunicorn's If-None-Match; 'gzip' = the pre-compressed file, sent by "
        "gunicorn as Content-Encoding: gzip and by the static server as the .gz file); load: "
        f"{CONNECTIONS} keep-alive connections from a separate process, bodies read in full."
    ]
    data = {
        "items": items,
        "median_requests_per_second": {f"{s} {a}": v for (s, a), v in rps.items()},
        "feed_mib": {k: round(v, 1) for k, v in sizes.items()},
        "runs": {f"{s} {a}": v for (s, a), v in results.items()},
    }
    return Section("serving", rows, data, notes)
