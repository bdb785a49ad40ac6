"""The realistic mix (bench/mix.py): reproducible, within bounds, and skewed like Zipf."""

from __future__ import annotations

from collections import Counter

import pytest

from bench.mix import zipf_mix, zipf_weights


def test_weights_fall_with_rank_and_sum_to_one():
    weights = zipf_weights(1000)
    assert sum(weights) == pytest.approx(1.0)
    assert weights == sorted(weights, reverse=True)
    # Rank 1 carries 1 / H(1000) of the traffic with exponent 1.
    assert weights[0] == pytest.approx(1 / sum(1 / r for r in range(1, 1001)))


def test_the_same_seed_gives_the_same_mix_and_another_seed_another():
    first = zipf_mix(1000, 100, 5000, seed=11)
    assert first == zipf_mix(1000, 100, 5000, seed=11)
    assert first != zipf_mix(1000, 100, 5000, seed=12)


def test_every_pair_is_in_range_and_the_top_ranks_dominate():
    pairs = zipf_mix(1000, 100, 100_000, seed=11)
    assert len(pairs) == 100_000
    assert all(0 <= p < 1000 and 0 <= k < 100 for p, k in pairs)
    paths = Counter(p for p, _ in pairs)
    keys = Counter(k for _, k in pairs)
    assert paths.most_common(1)[0][0] == 0
    assert keys.most_common(1)[0][0] == 0
    # About 13% of requests go to the top path (1/H(1000)), 19% to the top key (1/H(100)).
    assert 0.12 < paths[0] / len(pairs) < 0.15
    assert 0.17 < keys[0] / len(pairs) < 0.21
    # Skewed, yet most paths are asked for at least once: the cache sees a long tail.
    assert len(paths) > 900


def test_an_empty_distribution_is_refused():
    with pytest.raises(ValueError, match="at least one rank"):
        zipf_weights(0)
