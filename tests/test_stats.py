"""Plain-Python median and percentile agree with numpy's."""

from __future__ import annotations

import numpy as np
import pytest

from mididrumigen.stats import median, percentile


@pytest.mark.parametrize(
    "values", [[5.0], [3.0, 1.0], [7, 1, 4], [10, 2, 8, 4, 6, 12], list(range(1, 128, 3))]
)
def test_median_and_percentile_match_numpy(values: list[float]) -> None:
    assert median(values) == pytest.approx(float(np.median(values)))
    for percent in (0.0, 10.0, 50.0, 90.0, 100.0):
        assert percentile(values, percent) == pytest.approx(float(np.percentile(values, percent)))
