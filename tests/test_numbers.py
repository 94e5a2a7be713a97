"""Numbers printed for the spread, not the offset."""

import numpy as np

from emviz.numbers import format_for_spread, format_matrix


def test_far_from_zero_the_spread_still_shows():
    texts = format_for_spread([1e9 + 0.0012345, 1e9 - 0.00098], 1e-3)
    assert texts == ["1000000000.001235", "999999999.999020"]
    assert abs(float(texts[0]) - (1e9 + 0.0012345)) < 1e-6


def test_small_covariances_are_not_zero():
    text = format_matrix([[1.02e-6, -3e-9], [-3e-9, 0.98e-6]], 0.98e-6)
    assert text == "[[ 1.0200e-06, -3.0000e-09], [-3.0000e-09,  9.8000e-07]]"


def test_every_value_keeps_its_digits_at_any_scale():
    rng = np.random.default_rng(0)
    for offset in (0.0, 1.0, 1e4, 1e9, 1e-8, 1e150, -1e-200):
        for spread in (1e-3, 1.0, 1e3):
            scale = max(abs(offset), 1.0) if offset == 0 else abs(offset)
            values = offset + spread * scale * 1e-6 * rng.normal(size=5) if offset else spread * rng.normal(size=5)
            actual_spread = float(np.std(values)) or spread
            back = np.array([float(t) for t in format_for_spread(values, actual_spread)])
            # the printed values keep the differences: errors well below the spread
            assert np.all(np.abs(back - values) <= actual_spread * 1e-3 + np.abs(values) * 1e-15)


def test_zero_nan_and_negative_zero():
    assert format_for_spread([0.0, -0.0], 0.0) == ["0.000", "0.000"]
    assert format_for_spread([float("nan"), 1.0], 0.0) == ["nan", "1.000"]
    assert format_for_spread([-0.00001, 3.2], 1.0) == ["0.000", "3.200"]
