import pytest

from stats import moving_average


def test_moving_average_of_four_values():
    assert moving_average([1, 2, 3, 4], 2) == [1.5, 2.5, 3.5]


def test_window_longer_than_values():
    assert moving_average([1, 2], 3) == []


def test_window_must_be_positive():
    with pytest.raises(ValueError):
        moving_average([1], 0)
