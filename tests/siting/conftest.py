"""Factories of the siting tests: random covering instances and their side constraints.

spopt-style factory fixtures: each returns a function so a test can build as many instances
as it needs. The same generator produced ``data/before_redesign.json`` (the solver results
recorded before the siting package was split into model/solver modules).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp


def random_instance(seed: int, n_cand: int = 9, n_dem: int = 30, density: float = 0.25):
    """A small random instance: reach matrix, integer weights, existing coverage, xy, groups."""
    rng = np.random.default_rng(seed)
    A = sp.csr_matrix(rng.random((n_cand, n_dem)) < density)
    w = rng.integers(0, 10, n_dem).astype(float)
    c0 = rng.random(n_dem) < 0.25
    xy = rng.random((n_cand, 2)) * 1000.0
    groups = rng.integers(0, 3, n_cand)
    return rng, A, w, c0, xy, groups


def constraint_variant(seed: int, rng, xy, groups, n_cand: int = 9) -> dict:
    """Side constraints by ``seed % 5``: none, groups, spacing, forced/forbidden, all of them."""
    variant = seed % 5
    if variant == 1:
        return {"groups": groups, "max_per_group": 1}
    if variant == 2:
        return {"candidate_xy": xy, "min_spacing_m": 350.0}
    if variant == 3:
        kw = {"forced": [int(rng.integers(0, n_cand))], "forbidden": [int(rng.integers(0, n_cand))]}
        if kw["forced"] == kw["forbidden"]:
            kw["forbidden"] = [(kw["forced"][0] + 1) % n_cand]
        return kw
    if variant == 4:
        f = int(rng.integers(0, n_cand))
        return {"groups": groups, "max_per_group": {0: 1, 1: 2}, "candidate_xy": xy,
                "min_spacing_m": 250.0, "forced": [f], "forbidden": [(f + 3) % n_cand]}
    return {}


def recompute_objective(A: sp.csr_matrix, w: np.ndarray, c0: np.ndarray, sel) -> float:
    """Independent re-computation of the weight newly covered by ``sel``."""
    cov = np.asarray(A[list(sel)].sum(axis=0)).ravel() > 0 if len(sel) else np.zeros(A.shape[1], bool)
    return float(w[cov & ~c0].sum())


@pytest.fixture
def make_instance():
    """``make_instance(seed, n_cand=9, n_dem=30, density=0.25)`` → (rng, A, w, c0, xy, groups)."""
    return random_instance


@pytest.fixture
def make_constraints():
    """``make_constraints(seed, rng, xy, groups, n_cand=9)`` → keyword side constraints."""
    return constraint_variant


@pytest.fixture
def objective():
    """``objective(A, w, c0, sel)``: newly covered weight, recomputed independently."""
    return recompute_objective
