"""``region_summary.json``: what the region run used and found (deterministic: no timings)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from carecover import notices
from carecover.region.halo import SEGMENT_ALLOWANCE_M, mode_halos_m
from carecover.region.merge import AreaResult
from carecover.region.options import RegionOptions
from carecover.region.task import TaskSpec
from carecover.utils import now_iso


def region_summary(plans, tasks: Sequence[TaskSpec], results: Sequence[AreaResult], site_info: list[dict],
                   opts: RegionOptions) -> dict:
    """The summary record of a region run (the region and area figures are added when written)."""
    p0 = plans[0].params
    return {
        "title": "区域一刻钟养老服务圈覆盖 / Region: 15-minute elderly-care coverage",
        "created": now_iso(), "command": opts.command or "",
        "parameters": p0.to_dict(), "areas_file": Path(opts.areas).name,
        "areas": [{"name": p.spec.name, "index": p.spec.index, "tiles": sum(t.area == p.spec.name for t in tasks),
                   "network": Path(str(p.spec.network)).name, "population": p.params.population and
                   Path(p.params.population).name, "total_population": p.spec.total_population,
                   "registers": [Path(str(f)).name for f in p.spec.facilities], "planned": p.spec.planned,
                   "halo_m": mode_halos_m(p.params), "residents": len(r.points), "tiers": list(r.tiers)}
                  for p, r in zip(plans, results, strict=True)],
        "tasks": len(tasks),
        "method": {
            "halo": f"threshold × search factor × fastest speed of the mode + snap limit + {SEGMENT_ALLOWANCE_M:.0f} m "
                    "(longest segment at the clip edge)",
            "ownership": "a resident belongs to the first area (file order) whose polygon covers it; tiles are "
                         "half-open grid cells",
            "region_figures": "sums of the areas' exact covered and total counts",
            "gaps": "per area, over all its residents (a gap crossing a tile border is one gap; one crossing an "
                    "area border is one gap in each area)",
            "not_in_region_run": "straight-line circle figures and administrative coverage (run plan per area)",
        },
        "sites": site_info,
        "notices": notices.as_dicts(dict.fromkeys(n for r in results for n in r.notices)),
    }
