"""A bounded load generator for loopback servers: keep-alive connections for a fixed time.

Pure standard library, so the suite runs on a fresh machine; it runs in a process of its own
(``python -m tests.bench.loadgen``) so its GIL is not the suite's. Every answer's status is
checked and every body read to the end.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

_BUFFER = 1 << 20


@dataclass
class Tally:
    """What one connection did."""

    requests: int = 0
    unexpected: int = 0
    body_bytes: int = 0
    latencies: list[float] = field(default_factory=list)
    error: str = ""


def hammer(url: str, headers: dict[str, str], expect: int, deadline: float, tally: Tally) -> None:
    """Send GETs on one keep-alive connection until the deadline, reading every body."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    buffer = memoryview(bytearray(_BUFFER))
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        while time.monotonic() < deadline:
            start = time.perf_counter()
            conn.request("GET", path, headers=headers)
            reply = conn.getresponse()
            while count := reply.readinto(buffer):
                tally.body_bytes += count
            tally.latencies.append(time.perf_counter() - start)
            tally.requests += 1
            tally.unexpected += reply.status != expect
            if reply.will_close:
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    except (OSError, http.client.HTTPException) as exc:
        tally.error = f"{type(exc).__name__}: {exc}"
    finally:
        conn.close()


def load(
    url: str, headers: dict[str, str], expect: int, seconds: float, connections: int
) -> dict[str, object]:
    """Run `connections` connections for `seconds`; requests per second and body throughput."""
    tallies = [Tally() for _ in range(connections)]
    start = time.monotonic()
    threads = [
        threading.Thread(target=hammer, args=(url, headers, expect, start + seconds, t))
        for t in tallies
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - start
    done = sum(t.requests for t in tallies)
    latencies = sorted(x for t in tallies for x in t.latencies)
    return {
        "requests": done,
        "seconds": round(elapsed, 3),
        "requests_per_second": round(done / elapsed, 1),
        "mib_per_second": round(sum(t.body_bytes for t in tallies) / elapsed / 2**20, 1),
        "median_latency_ms": round(statistics.median(latencies) * 1000, 2) if latencies else None,
        "unexpected_status": sum(t.unexpected for t in tallies),
        "errors": [t.error for t in tallies if t.error],
    }


def main() -> None:
    """``python -m tests.bench.loadgen URL --expect 200 [--header 'Name: value'] ...``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--header", action="append", default=[], help="'Name: value'")
    parser.add_argument("--expect", type=int, default=200, help="the status every answer needs")
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    headers = dict(h.split(": ", 1) for h in args.header)
    print(json.dumps(load(args.url, headers, args.expect, args.seconds, args.connections)))


if __name__ == "__main__":
    main()
