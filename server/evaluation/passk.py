"""The unbiased pass@k estimator of Chen et al., "Evaluating Large Language Models
Trained on Code" (2021), section 2.1.

With n samples per task of which c are correct, pass@k = 1 - C(n-c, k) / C(n, k): the
chance that at least one of k samples drawn without replacement from the n is correct.
The binomial coefficients overflow floats for large n, so the ratio is computed as the
product prod_{i=n-c+1}^{n} (1 - k/i), which is equal and stays within [0, 1].
"""

from __future__ import annotations

from typing import Iterable


def pass_at_k(n: int, c: int, k: int) -> float:
    """Return the estimated pass@k for one task with `n` samples, `c` of them correct.

    Raises ValueError unless 0 <= c <= n and 1 <= k <= n.
    """
    if n < 1 or not 0 <= c <= n:
        raise ValueError(f"pass@k needs 0 <= c <= n and n >= 1, got n={n}, c={c}")
    if not 1 <= k <= n:
        raise ValueError(f"pass@{k} needs 1 <= k <= n, got n={n}")
    if n - c < k:
        # Every draw of k samples contains a correct one.
        return 1.0
    ratio = 1.0
    for i in range(n - c + 1, n + 1):
        ratio *= 1.0 - k / i
    return 1.0 - ratio


def mean_pass_at_k(counts: Iterable[tuple[int, int]], k: int) -> float | None:
    """Return the mean pass@k over tasks given as (n, c) pairs.

    Returns None when there is no task or a task has fewer than k samples, because the
    estimator is undefined there and a partial mean would mislead.
    """
    values = []
    for n, c in counts:
        if n < k:
            return None
        values.append(pass_at_k(n, c, k))
    if not values:
        return None
    return sum(values) / len(values)
