"""Marks interface text for the gettext catalogs without translating it, so the domain stays
Flask-free and translation-free: the web layer translates what this marks."""

from __future__ import annotations


def N_(message: str) -> str:
    """The message id unchanged; marking it lets `pybabel extract -k N_` put it in the catalogs."""
    return message
