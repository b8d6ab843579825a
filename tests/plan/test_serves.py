"""Who serves whom (``plan/serves.py``) on the demo run: the demand table's nearest facility per
tier and, for the planned tier, the suggested site serving each resident after the plan —
checked against figures computed elsewhere (facilities' ``reached_elderly`` from the routing
stage, the siting model's covered weight after the plan)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

DEMO_TIERS = ("street_centre", "community_centre", "meal_point")


@pytest.fixture(scope="module")
def demand(demo_out: Path) -> pd.DataFrame:
    # a travel time beyond the search limit as NaN
    return pd.read_parquet(demo_out / "demand.parquet").replace([np.inf, -np.inf], np.nan)


@pytest.mark.parametrize("tier", DEMO_TIERS)
def test_nearest_facility_per_tier(demo_out: Path, demand: pd.DataFrame, tier: str) -> None:
    fac = pd.read_csv(demo_out / "facilities.csv", encoding="utf-8-sig")
    fid = demand[f"nearest_fid__{tier}"].astype(str)
    reached = demand[f"time_s__{tier}"].notna()
    assert ((fid != "") == reached).all()  # an id exactly where a facility was reached
    assert set(fid[fid != ""]) <= set(fac.loc[fac["tier"] == tier, "fid"])  # of the tier's own
    # the routing stage's reached_elderly: the elderly within the threshold nearest to each
    covered = demand[f"covered__{tier}"].astype(str) == "True"
    mine = demand[covered].groupby(fid[covered])["elderly"].sum()
    theirs = fac[fac["tier"] == tier].set_index("fid")["reached_elderly"]
    assert np.allclose(mine.reindex(theirs.index, fill_value=0.0), theirs, atol=0.06)


def test_after_the_plan(demo_out: Path, demand: pd.DataFrame) -> None:
    info = json.loads((demo_out / "summary.json").read_text(encoding="utf-8"))["sites"]["street_centre"]
    sites = pd.read_csv(demo_out / "sites.csv", encoding="utf-8-sig")
    after = demand["covered_after__street_centre"].astype(str) == "True"
    now = demand["covered__street_centre"].astype(str) == "True"
    # the siting model's covered elderly after the plan (region: everywhere in the demo)
    assert info["region"] == "all"
    assert demand.loc[after, "elderly"].sum() == pytest.approx(info["covered_after"], rel=1e-9)
    assert (now <= after).all()  # building sites uncovers nobody
    site = demand["after_site__street_centre"].astype(str)
    assert set(site[site != ""]) == set(sites.loc[sites["tier"] == "street_centre", "candidate"])
    assert (after[~now] <= (site[~now] != "")).all()  # the newly covered are served by a new site
    for tier in ("community_centre", "meal_point"):  # nothing planned: no columns
        assert f"after_site__{tier}" not in demand
