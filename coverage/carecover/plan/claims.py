"""Stage 9 — claims: the city's published claims checked against this run's figures."""

from __future__ import annotations

import json
from pathlib import Path

from carecover.analysis.claims import claims_table_text, evaluate_claims, load_claims
from carecover.params import RunParams
from carecover.utils import log


def check(params: RunParams, figures: list[dict]) -> list[dict]:
    """PASS / FAIL / NOT EVALUATED rows of the config's claims file (none without one).

    Parameters
    ----------
    params
        The config (its claims file and counties), tiers and main walking speed.
    figures
        Every figure of the run, current and planned.
    """
    cfg = params.config
    if cfg is None or cfg.claims is None or not Path(cfg.claims).exists():
        return []
    claims = load_claims(cfg.claims, [c.name for c in cfg.counties])
    table = evaluate_claims(claims, figures, tiers=dict(params.tiers), walk_speed_mps=params.walk_speed_mps)
    log(claims_table_text(table, params.lang))
    return json.loads(table.to_json(orient="records", force_ascii=False))
