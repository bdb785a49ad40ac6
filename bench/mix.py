"""The realistic mix for the cached row: which path and which key each request carries.

Traffic is skewed: a few paths and a few clients carry most of it. Path and key are drawn
independently, each from a Zipf distribution over its ranks (rank r has weight 1/r**exponent),
with a fixed seed, so every run (and every round) replays the same list.
"""

from __future__ import annotations

import random
from itertools import accumulate

DEFAULT_EXPONENT = 1.0


def zipf_weights(count: int, exponent: float = DEFAULT_EXPONENT) -> list[float]:
    """Weights of ranks 1..count, normalised to sum to 1."""
    if count < 1:
        raise ValueError("a Zipf distribution needs at least one rank")
    raw = [1.0 / rank**exponent for rank in range(1, count + 1)]
    total = sum(raw)
    return [weight / total for weight in raw]


def zipf_mix(
    paths: int,
    keys: int,
    length: int,
    *,
    seed: int,
    exponent: float = DEFAULT_EXPONENT,
) -> list[tuple[int, int]]:
    """`length` (path index, key index) pairs; index 0 is the most frequent of each."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible load pattern, not a secret
    path_weights = list(accumulate(zipf_weights(paths, exponent)))
    key_weights = list(accumulate(zipf_weights(keys, exponent)))
    chosen_paths = rng.choices(range(paths), cum_weights=path_weights, k=length)
    chosen_keys = rng.choices(range(keys), cum_weights=key_weights, k=length)
    return list(zip(chosen_paths, chosen_keys, strict=True))
