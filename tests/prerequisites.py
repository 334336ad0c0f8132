"""What the test suite needs from the machine, so a run lacking it stops at once with one line.

Standard library only: the Makefile runs it with the system Python before `make test` sets
anything up (`python3 tests/prerequisites.py` prints the line, or nothing), and conftest.py calls
`missing()` when pytest starts. Redis is needed by nearly every test (a private `redis-server`
is started for the run unless REDIS_URL names one); Chromium by the browser tests; Caddy by
tests/test_deploy.py and tests/test_hostile_traffic.py, which run deploy/Caddyfile.
"""

from __future__ import annotations

import os
import shutil
import sys

#: Debian's chromium, the browser Playwright drives in tests/web/test_browser.py.
CHROMIUM = "/usr/bin/chromium"


def missing(redis_url: str | None, chromium: str = CHROMIUM) -> str | None:
    """One line naming what to install, or None when the suite can run on this machine."""
    lacking = []
    if not redis_url and shutil.which("redis-server") is None:
        lacking.append("redis-server")
    if not os.access(chromium, os.X_OK):
        lacking.append("chromium")
    if shutil.which("caddy") is None:
        lacking.append("caddy")
    if not lacking:
        return None
    what = " and ".join([", ".join(lacking[:-1]), lacking[-1]] if len(lacking) > 2 else lacking)
    verb = "is" if len(lacking) == 1 else "are"
    return f"The tests need {what}, which {verb} not installed: apt-get install {' '.join(lacking)}"


def main() -> int:
    """Print the line (for the Makefile's check) and exit 1 when something is missing."""
    problem = missing(os.environ.get("REDIS_URL"))
    if problem:
        print(problem)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
