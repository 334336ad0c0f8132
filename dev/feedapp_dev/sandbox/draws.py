"""Fast seeded draws for the catalogue generator, which makes hundreds of thousands of them."""

from __future__ import annotations

import random


def below(rng: random.Random, n: int) -> int:
    """A uniform int in [0, n): random() is several times faster than randrange in a hot loop."""
    return int(rng.random() * n)


def pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    """One value drawn with the given shares (which sum to 1)."""
    roll = rng.random()
    for value, share in weighted:
        if roll < share:
            return value
        roll -= share
    return weighted[-1][0]
