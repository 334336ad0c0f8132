"""Logging for every process (web, worker, scheduler, CLI): one level, one format, no secrets.

`configure_logging` is the one place a process sets logging up from its Config: the root level
from LOG_LEVEL, a stderr handler in one format when the process has no handler of its own, and a
`RedactSecrets` filter on every handler, so a record from any logger (ours, werkzeug, gunicorn,
rq, urllib3, redis, oauthlib) is masked before it is written, whatever its level.

Under gunicorn the factory runs after gunicorn has set up its own loggers (in the master with
``--preload``, in each worker without it); those loggers keep their handlers and do not propagate,
so the filter and the format are put on them too, and on the loggers themselves, which keep the
filter when a SIGHUP makes gunicorn replace its handlers.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlsplit

if TYPE_CHECKING:
    from config import Config

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
MASK = "***"
#: Libraries that write OAuth tokens, codes and the client secret at DEBUG: never below INFO.
TOKEN_LOGGERS = ("requests_oauthlib", "oauthlib")
#: gunicorn's loggers keep handlers of their own and do not propagate to the root logger.
GUNICORN_LOGGERS = ("gunicorn.error", "gunicorn.access")
#: A configured value shorter than this is not treated as a secret (it would mask common words).
MIN_SECRET_LENGTH = 6

#: What a secret looks like in text, each with what replaces it. Every pattern starts with a
#: literal (or a word boundary and a literal) and has no nested or overlapping repetition, so
#: masking a message takes time linear in its length, however hostile the text.
PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Feed URLs: /feeds/<token>.xml and .xml.gz (the token stops at the dot). A segment followed
    # by "/" is a folder (FEEDS_DIR/<store code>/feed.xml) and is kept; the possessive run never
    # gives characters back, so the check costs nothing.
    (re.compile(r"(/feeds/)[^/\s?#.\"'<>]++(?!/)"), r"\1" + MASK),
    # Page tokens in a query string (also after an HTML-escaped &amp;).
    (re.compile(r"([?&;]t=)[^&\s#\"'<>]+"), r"\1" + MASK),
    # Passwords in URLs: scheme://user:password@host.
    (re.compile(r"(://[^\s:/@]*:)[^\s/@]+@"), r"\1" + MASK + "@"),
    # Header values, as text or as a dict's repr: Authorization (any scheme), X-Page-Token.
    (
        re.compile(
            r"\b(authorization|x-page-token)(\\?[\"']?\s*[:=]\s*\\?[\"']?)"
            r"(?:(?:basic|bearer)\s+)?[^\s\"',;}\\]+",
            re.IGNORECASE,
        ),
        r"\1\2" + MASK,
    ),
    # Credentials after their scheme wherever they appear.
    (re.compile(r"\b(basic|bearer)\s+[A-Za-z0-9._~+/=-]{8,}", re.IGNORECASE), r"\1 " + MASK),
    # Form, query, JSON and repr fields that hold tokens or passwords (feed_password too), in
    # lower case as OAuth writes them.
    (
        re.compile(
            r"\b(access_token|refresh_token|client_secret|hooks_token|code|(?:[a-z]+_)?password)"
            r"(\\?[\"']?\s*[:=]\s*\\?[\"']?)[^\s&\"',;}<>\\]+"
        ),
        r"\1\2" + MASK,
    ),
)


def config_secrets(config: Config) -> list[str]:
    """The secret values a process is configured with: client secret, keys, the Redis password."""
    values = [config.JUMPSELLER_CLIENT_SECRET, config.SECRET_KEY, *config.TOKEN_KEYS]
    password = urlsplit(config.REDIS_URL).password if config.REDIS_URL else None
    if password:
        values += [password, unquote(password)]
    return values


class RedactSecrets(logging.Filter):
    """Formats each record itself and masks secrets, so neither message nor lazy args can leak."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        """Mask `secrets` literally (and URL-encoded), besides what PATTERNS recognise."""
        super().__init__()
        known = {s for s in secrets if len(s) >= MIN_SECRET_LENGTH}
        known |= {quote(s, safe="") for s in known}
        self.secrets = sorted(known, key=len, reverse=True)  # a longer one may contain another

    def redact(self, text: str) -> str:
        """`text` with every known secret and every secret-shaped value masked."""
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        for pattern, replacement in PATTERNS:
            text = pattern.sub(replacement, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        """Replace the record's message (args merged in), traceback and stack by masked text."""
        try:
            message = record.getMessage()
        except Exception:  # a malformed call; logging's own error report would print the args
            message = f"{record.msg!s} (log arguments that do not fit the message were dropped)"
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def configure_logging(config: Config) -> RedactSecrets:
    """Set this process's logging from its settings; safe to call again (the CLI, then a worker).

    The root level is LOG_LEVEL. A handler is added only when the root logger has none: a process
    that brought its own (a test runner, an embedding server) keeps its output where it wants it.
    """
    root = logging.getLogger()
    root.setLevel(config.LOG_LEVEL)
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(handler)
    for name in TOKEN_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.INFO, root.level))
    redact = RedactSecrets(config_secrets(config))
    for logger in _gunicorn_loggers():
        if logger.name == "gunicorn.error":  # LOG_LEVEL rules gunicorn's own messages too
            logger.setLevel(config.LOG_LEVEL)
        _use_filter(logger, redact)
        for handler in logger.handlers:
            handler.setFormatter(logging.Formatter(FORMAT))
    for handler in _all_handlers():
        _use_filter(handler, redact)
    return redact


def _gunicorn_loggers() -> Iterator[logging.Logger]:
    """gunicorn's loggers, when this process is a gunicorn server (never creates them)."""
    for name in GUNICORN_LOGGERS:
        logger = logging.Logger.manager.loggerDict.get(name)
        if isinstance(logger, logging.Logger):
            yield logger


def _all_handlers() -> Iterator[logging.Handler]:
    """Every handler attached to the root or to any logger that exists now."""
    loggers = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
    seen: set[int] = set()
    for logger in loggers:
        for handler in getattr(logger, "handlers", ()):  # placeholders have no handlers
            if id(handler) not in seen:
                seen.add(id(handler))
                yield handler


def _use_filter(target: logging.Filterer, redact: RedactSecrets) -> None:
    """Attach `redact` in place of any RedactSecrets attached by an earlier call."""
    for old in [f for f in target.filters if isinstance(f, RedactSecrets)]:
        target.removeFilter(old)
    target.addFilter(redact)
