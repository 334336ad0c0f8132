# One image for every service (web, worker, scheduler, sandbox); docker-compose.yml picks the command.
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

WORKDIR /app

# Dependencies first, from pyproject.toml alone, so code changes reuse this layer.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

COPY config.py ./
COPY feedapp ./feedapp
COPY workers ./workers
COPY templates ./templates
# Editable, so create_app finds templates/ beside the package exactly as in a checkout.
RUN pip install --no-deps -e .

USER feedapp
EXPOSE 8000

# For web; docker-compose.yml turns it off for the worker and scheduler, which serve no HTTP.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

# No --access-logfile: access logs would record feed URLs, and the token in them is the secret.
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "2", "--threads", "4", "--forwarded-allow-ips=*", "feedapp:create_app()"]
