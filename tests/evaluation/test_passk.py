"""The unbiased pass@k estimator against hand-computed values and exact fractions."""

from fractions import Fraction
from math import comb

import pytest

from tracefix.server.evaluation.passk import mean_pass_at_k, pass_at_k


@pytest.mark.parametrize("n,c,k,expected", [
    (4, 2, 1, 0.5),  # c/n
    (4, 2, 2, 1 - 1 / 6),  # 1 - C(2,2)/C(4,2)
    (10, 3, 5, 1 - 21 / 252),  # 1 - C(7,5)/C(10,5)
    (10, 1, 10, 1.0),  # every draw contains the one correct sample
    (200, 1, 1, 0.005),
    (5, 0, 3, 0.0),
    (5, 5, 1, 1.0),
    (5, 3, 3, 1.0),  # n - c < k
    (1, 1, 1, 1.0),
    (1, 0, 1, 0.0),
])
def test_pass_at_k_hand_computed(n, c, k, expected):
    assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("n,c,k", [(2000, 10, 100), (1000, 3, 500), (300, 150, 7)])
def test_pass_at_k_matches_exact_for_large_n(n, c, k):
    exact = 1 - Fraction(comb(n - c, k), comb(n, k))
    assert pass_at_k(n, c, k) == pytest.approx(float(exact), rel=1e-9)


@pytest.mark.parametrize("n,c,k", [(0, 0, 1), (3, 4, 1), (3, -1, 1), (3, 1, 0), (3, 1, 4)])
def test_pass_at_k_rejects_invalid(n, c, k):
    with pytest.raises(ValueError):
        pass_at_k(n, c, k)


def test_mean_pass_at_k_averages_tasks():
    assert mean_pass_at_k([(4, 2), (4, 1)], 1) == pytest.approx(0.375)
    assert mean_pass_at_k([(4, 2), (4, 0)], 2) == pytest.approx((5 / 6) / 2)


def test_mean_pass_at_k_undefined_cases():
    assert mean_pass_at_k([], 1) is None
    assert mean_pass_at_k([(4, 2), (1, 1)], 2) is None  # one task has fewer than k samples
