"""Talking to Jumpseller: the API client, its rate limit, OAuth tokens, installs and webhooks."""
