"""Bounded request bodies: a body too large for its route is refused (413) before any of it is read.

Every request, whatever its route (the feeds and /healthz too), is checked against its declared
``Content-Length`` before a view runs, so a 200 MB upload costs a header parse, not a read. A body
without a length (chunked) is capped as it is read: werkzeug's limited stream raises the same 413
past the limit. Form fields are capped one by one as well, in URL-encoded forms (the options form)
as in multipart ones (the page's fetch calls post ``FormData``), and so is their number.

The numbers, from what the largest legitimate request needs:

- ``WEBHOOK_BODY``: Jumpseller's product document, a few kB (``hooks.MAX_BODY``, 1 MiB).
- ``FORM_BODY`` (256 KiB), the default: the largest form is the options form with a category
  mapping field for each of the page's 500 categories (``page.MAX_CATEGORIES``). A picker label
  ("id - Google path") is at most 223 characters in Google's taxonomy, about 270 bytes URL-encoded
  with its field name, so some 135 kB in all.
- ``FORM_PARTS`` (1,000), the default: those 500 category fields and some 25 others.
- ``RULES_BODY`` (1 MiB) and ``RULES_PARTS``: the rules editor posts every field of every rule,
  up to ``feed.rules``' limits (100 rules of 4 fields, 20 conditions of 4 and 12 actions of 2:
  10,800 fields, ~0.6 MB with everyday values); twice the largest rules file the CLI imports
  (``rules.MAX_FILE_BYTES``, 512 KiB of JSON).
- ``FIELD_BYTES`` (64 KiB), one field as sent, on every route: the longest legitimate one is a
  rule's list of values (up to 100 values of 200 characters, ~20,000 characters, ~25 kB
  URL-encoded for Spanish text); next come an option-name list (~1.6 kB) and a page token (512).

The refusal is werkzeug's ``RequestEntityTooLarge``, shown like every HTTP error (the error page,
or JSON to the page's fetch calls). gunicorn runs without keep-alive (docker-compose.yml), so the
connection of a refused upload closes after the answer instead of being drained for the next
request; Caddy refuses a declared length over ``LARGEST_BODY`` itself (deploy/Caddyfile).
"""

from __future__ import annotations

from io import BytesIO
from typing import IO

from flask import Flask, Request, request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import FormDataParser

from feedapp.feed.rules import MAX_ACTIONS, MAX_CONDITIONS, MAX_RULES
from feedapp.jumpseller.hooks import MAX_BODY

#: Bytes a webhook delivery may have.
WEBHOOK_BODY = MAX_BODY
#: Bytes a request body may have, and fields a form may have, unless its route says otherwise.
FORM_BODY = 256 * 1024
FORM_PARTS = 1000
#: The rules editor's form: every field of every rule.
RULES_BODY = 1024 * 1024
RULES_PARTS = MAX_RULES * (4 + 4 * MAX_CONDITIONS + 2 * MAX_ACTIONS) + FORM_PARTS
#: Bytes one form field may have, name and value as sent.
FIELD_BYTES = 64 * 1024
#: Routes (endpoints) that take more than the defaults: (body bytes, form fields).
LARGER: dict[str, tuple[int, int]] = {
    "webhooks.receive": (WEBHOOK_BODY, FORM_PARTS),
    "page.save_rules": (RULES_BODY, RULES_PARTS),
}
#: The largest body any route takes: what the proxy in front refuses above.
LARGEST_BODY = max(FORM_BODY, *(body for body, _ in LARGER.values()))

_URLENCODED = "application/x-www-form-urlencoded"


class LimitedFormParser(FormDataParser):
    """werkzeug's parser, with its multipart field and part limits applied to URL-encoded forms."""

    def parse(
        self,
        stream: IO[bytes],
        mimetype: str,
        content_length: int | None,
        options: dict[str, str] | None = None,
    ) -> tuple[IO[bytes], MultiDict, MultiDict]:
        """Refuse a URL-encoded form with an oversized field or too many fields, then parse it."""
        if mimetype == _URLENCODED:
            body = stream.read()  # already capped at the request's max_content_length
            fields = body.split(b"&")
            if self.max_form_parts is not None and len(fields) > self.max_form_parts:
                raise RequestEntityTooLarge()
            field_limit = self.max_form_memory_size
            if field_limit is not None and max(map(len, fields)) > field_limit:
                raise RequestEntityTooLarge()
            stream = BytesIO(body)
        return super().parse(stream, mimetype, content_length, options)


class LimitedRequest(Request):
    """Flask's request with the field limits on every kind of form."""

    form_data_parser_class = LimitedFormParser


def route_limits(endpoint: str | None) -> tuple[int, int]:
    """The most body bytes and form fields a route takes (unknown routes get the defaults)."""
    return LARGER.get(endpoint or "", (FORM_BODY, FORM_PARTS))


def _refuse_large_bodies() -> None:
    """413 for a declared length over the route's limit, before anything reads the body."""
    body, parts = route_limits(request.endpoint)
    request.max_content_length = body  # also caps a chunked body as it is read
    request.max_form_parts = parts
    if (request.content_length or 0) > body:
        raise RequestEntityTooLarge()


def init_app(app: Flask) -> None:
    """Set the body, field and part limits and check every request before its view runs."""
    app.request_class = LimitedRequest
    app.config.update(
        MAX_CONTENT_LENGTH=FORM_BODY,
        MAX_FORM_MEMORY_SIZE=FIELD_BYTES,
        MAX_FORM_PARTS=FORM_PARTS,
    )
    # First of the app's before-request functions, so none of them reads a body this refuses.
    app.before_request_funcs.setdefault(None, []).insert(0, _refuse_large_bodies)
