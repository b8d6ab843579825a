"""Stage 8 with co-location (一老一小) — the plan with "at least k co-located sites", its price
against the plan without the rule, and what every suggested site stands next to.

With ``--colocation-min`` the covering model is solved twice: without the rule (the best plan
on coverage alone; the coverage curve and the sites for the target come from it) and with it
(the plan's sites). ``summary.json`` states both (elderly covered, difference in 百分点), the
report says it in one paragraph (:mod:`carecover.outputs.report.colocation`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from carecover.inputs.osm_public import KINDS
from carecover.params import RunParams
from carecover.siting.colocation import ANY, Colocated, min_sites_rows
from carecover.siting.greedy import Greedy
from carecover.siting.highs import Highs
from carecover.siting.model import MaximalCovering
from carecover.siting.solution import SiteSolution
from carecover.utils import log

__all__ = ["COLOCATION_COLUMNS", "colocation_info", "solve_with_rule", "with_colocation"]

#: Columns ``sites.csv`` gains with ``--candidates-from-osm``: the site's name (its facility,
#: for a candidate made from one), the nearest co-located facility (kind key, name, metres) and
#: every co-located facility.
COLOCATION_COLUMNS = ["site_name", "colocated_kind", "colocated_name", "colocated_m", "colocated_with"]


def best(greedy: SiteSolution, exact: SiteSolution) -> SiteSolution:
    """The exact solution unless greedy covers more (a time-limited exact run)."""
    return exact if exact.objective >= greedy.objective - 1e-9 else greedy


def solve_with_rule(params: RunParams, coloc: Colocated, model_args: dict[str, Any]
                    ) -> tuple[SiteSolution, SiteSolution] | None:
    """Greedy and exact solutions with the at-least rows of ``--colocation-min`` (``None``
    without a rule).

    Parameters
    ----------
    params
        ``colocation_min`` and the exact solver's time limit.
    coloc
        The candidates' co-location.
    model_args
        The arguments of the plan's :meth:`MaximalCovering.from_reach_matrix` (without the rule).
    """
    rows = min_sites_rows(coloc, params.colocation_min)
    if not rows:
        return None
    model = MaximalCovering.from_reach_matrix(**model_args, min_sites_in=rows)
    greedy = model.solve(Greedy())
    exact = model.solve(Highs(time_limit=params.exact_time_limit_s))
    log(f"  co-location rule {dict(params.colocation_min)}: greedy {greedy.runtime_s:.2f} s, "
        f"exact ({exact.status}) {exact.runtime_s:.2f} s")
    return greedy, exact


def _n_colocated(coloc: Colocated, sol: SiteSolution) -> int:
    return int(coloc.member[ANY][np.asarray(sol.chosen, dtype=np.int64)].sum()) if len(sol.chosen) else 0


def _record(coloc: Colocated, sol: SiteSolution) -> dict[str, Any]:
    return {"covered_after": sol.covered_after, "objective": sol.objective, "status": sol.status,
            "method": sol.method, "colocated_sites": _n_colocated(coloc, sol), "sites": len(sol.chosen)}


def colocation_info(params: RunParams, coloc: Colocated, names: tuple[str, ...] | None, without: SiteSolution,
                    with_rule: SiteSolution | None) -> dict[str, Any]:
    """The co-location part of a tier's ``summary.json`` siting record.

    ``without`` is the best plan on coverage alone, ``with_rule`` the best plan with the rule
    (``None`` without one); ``difference_points`` is their coverage difference in percentage
    points of all elderly (百分点; negative: the rule costs coverage).
    """
    out: dict[str, Any] = {"kinds": list(params.colocation_kinds), "within_m": coloc.within_m,
                           "mix": params.candidates_mix, "min_sites": dict(params.colocation_min),
                           "facility_candidates": sum(1 for n in (names or ()) if n),
                           "without": _record(coloc, without)}
    if with_rule is not None:
        tot = without.total_weight
        diff = with_rule.covered_after - without.covered_after
        out.update({"with": _record(coloc, with_rule), "difference_elderly": diff,
                    "difference_points": 100.0 * diff / tot if tot > 0 else None, "total_weight": tot})
    return out


def with_colocation(rows: pd.DataFrame, ids: tuple[str, ...], names: tuple[str, ...] | None,
                    coloc: Colocated) -> pd.DataFrame:
    """``rows`` (the sites table) with :data:`COLOCATION_COLUMNS` for every site."""
    at = {str(c): j for j, c in enumerate(ids)}
    j = np.asarray([at[str(c)] for c in rows["candidate"]], dtype=np.int64)
    out = rows.copy()
    out["site_name"] = [names[k] if names else "" for k in j]
    out["colocated_kind"] = [coloc.kind[k] for k in j]
    out["colocated_name"] = [coloc.name[k] for k in j]
    out["colocated_m"] = [None if np.isnan(coloc.dist_m[k]) else round(float(coloc.dist_m[k]), 1) for k in j]
    out["colocated_with"] = [coloc.text[k] for k in j]
    return out


def kind_name(kind: str, lang: str) -> str:
    """``学校`` / ``school`` (the key itself when unknown, "" for none)."""
    k = KINDS.get(kind)
    if k is None:
        return str(kind or "")
    return k.zh if lang == "zh" else k.en
