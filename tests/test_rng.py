"""The one random_state rule (synthcust._utils.rng.resolve_rng)."""

from __future__ import annotations

import numpy as np
import pytest

from synthcust._utils.rng import resolve_rng
from synthcust.exceptions import ParameterError, SynthcustError


def test_seeds_generators_and_fresh_entropy():
    a, b = resolve_rng(7), resolve_rng(np.int64(7))
    assert a.integers(1 << 30, size=5).tolist() == b.integers(1 << 30, size=5).tolist()
    assert (
        resolve_rng(7).random(3).tolist() == np.random.default_rng(7).random(3).tolist()
    )  # the same stream as default_rng: figures seeded before stay the same
    g = np.random.default_rng(1)
    assert resolve_rng(g) is g  # passed through: the caller keeps the stream
    s = np.random.SeedSequence(3)
    assert resolve_rng(s).random() == np.random.default_rng(np.random.SeedSequence(3)).random()
    draws = {resolve_rng(None).integers(1 << 62) for _ in range(5)}
    assert len(draws) == 5  # None: fresh entropy every call


@pytest.mark.parametrize("bad", [1.5, "42", True, -1, np.random.RandomState(0), [1, 2]])
def test_anything_else_is_refused_clearly(bad):
    with pytest.raises(ParameterError, match="random_state") as e:
        resolve_rng(bad)
    assert isinstance(e.value, SynthcustError | TypeError | ValueError)
    assert "random_state=0" in str(e.value)
