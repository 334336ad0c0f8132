"""Development-only tools: the Jumpseller sandbox and the one-command demo (never in the image)."""
