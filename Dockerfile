# One image for every production service (web, worker, scheduler); docker-compose.yml picks the
# command. It holds the installed feedapp package and its dependencies only: no tests and no
# development package (dev/: the sandbox, the demo, fakeredis), so there is no `flask sandbox`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    FLASK_APP=feedapp \
    FEEDS_DIR=/data/feeds

# An unprivileged user owns only the feeds folder; the code stays root-owned and read-only.
RUN groupadd --system --gid 10001 feedapp \
 && useradd --system --uid 10001 --gid feedapp --no-create-home --shell /usr/sbin/nologin feedapp \
 && mkdir -p /data/feeds \
 && chown feedapp:feedapp /data/feeds

# Built in /build, which is deleted after the install: the processes run in an empty /app and import
# the installed package, never a source tree.
WORKDIR /build

# Dependencies first, from pyproject.toml alone, so code changes reuse this layer.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > requirements.txt \
 && pip install -r requirements.txt

# The package itself, non-editable and without the dev extra: templates/ (mapped in as
# feedapp/templates), static files, catalogs and data ship inside it.
COPY README.md config.py ./
COPY feedapp ./feedapp
COPY workers ./workers
COPY templates ./templates
RUN pip install --no-deps . \
 && cd / \
 && rm -rf /build

WORKDIR /app
USER feedapp
EXPOSE 8000

# For web; docker-compose.yml turns it off for the worker and scheduler, which serve no HTTP.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

# No --access-logfile: access logs would record feed URLs, and the token in them is the secret.
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--worker-class", "gthread", "--workers", "2", "--threads", "4", "--keep-alive", "0", "--forwarded-allow-ips=*", "--preload", "feedapp:create_app()"]
