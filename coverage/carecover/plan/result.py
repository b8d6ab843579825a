"""A plan held in memory: :class:`Plan`, what :func:`carecover.run_plan` returns and
:func:`carecover.read_plan` reads back from a published folder.

Its tables are (Geo)DataFrames in WGS-84 — facilities, demand points, gaps, sites, isochrones,
accessibility — and its figures one table with a row per figure; :meth:`Plan.map` draws the
coverage map (a folium map that renders inline in Jupyter), :meth:`Plan.publish` writes the
output folder of ``carecover plan`` (byte for byte), :meth:`Plan.whatif` opens the what-if
engine (:class:`carecover.siting.whatif.Session`) on a sited tier.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from carecover.analysis.ledger import Ledger
from carecover.errors import InputError
from carecover.notices import Notice
from carecover.outputs.bundle import PlanBundle, ranked_gaps, sites_frame
from carecover.params import RunParams
from carecover.records import Figure
from carecover.summary_file import SummaryFile
from carecover.timing import StageTime

if TYPE_CHECKING:
    import folium

    from carecover.plan.assemble import Results
    from carecover.plan.siting import Siting
    from carecover.siting.whatif import Session

__all__ = ["Plan", "figures_frame"]


def figures_frame(figures: list[Figure]) -> pd.DataFrame:
    """Figures as one table: a row per figure, the :class:`~carecover.records.Figure` attributes
    and ``tier`` first, kind-specific values (``median_min``, ``measure`` …) as further columns."""
    rows = [f.row() for f in figures]
    front = [*Figure.KEYS, "tier"]
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=front)
    return frame[[*front, *[c for c in frame.columns if c not in front]]]


@dataclass(frozen=True)
class Plan:
    """One plan's results.

    Attributes
    ----------
    params
        The run's parameters, resolved once (:class:`~carecover.params.RunParams`).
    bundle
        What the map, report and exports show (:class:`~carecover.outputs.bundle.PlanBundle`).
    summary
        ``summary.json``'s content as a :class:`~carecover.summary_file.SummaryFile`.
    siting
        The coverage curve and prepared what-if states (``None`` when read back).
    results
        The stages' own results — networks, travel times, … (``None`` when read back).
    notices
        The run's warnings and findings, in the order raised.
    stage_times
        Each stage's (and step's) wall and CPU seconds (empty when read back).
    folder
        The published folder it was read from (``None`` for a computed plan).
    ledger
        The data-quality ledger (:class:`~carecover.analysis.ledger.Ledger`; read back from
        ``summary.json["ledger"]``; ``None`` when the summary has none).
    """

    params: RunParams
    bundle: PlanBundle
    summary: SummaryFile
    siting: Siting | None = None
    results: Results | None = None
    notices: tuple[Notice, ...] = ()
    stage_times: tuple[StageTime, ...] = ()
    folder: Path | None = None
    ledger: Ledger | None = None
    _states: dict = field(default_factory=dict, repr=False, compare=False)

    # ------------------------------------------------------------------ tables
    @property
    def facilities(self) -> gpd.GeoDataFrame:
        """Every register record with its status, tier, capacity and load (EPSG:4326)."""
        return self.bundle.facilities

    @property
    def demand(self) -> gpd.GeoDataFrame:
        """Demand points with, per tier, travel time, coverage and nearest facility (EPSG:4326)."""
        return self.bundle.demand

    @property
    def figures(self) -> pd.DataFrame:
        """Every figure of the run (:func:`figures_frame`): filter it like any table, e.g.
        ``f[(f.kind == "population") & (f.population == "elderly") & (f.area == "all")]``."""
        return figures_frame(list(self.summary.figures))

    @property
    def profile_figures(self) -> pd.DataFrame:
        """Coverage per mobility profile (``--profiles``), a row per profile (and step-free tag
        assumption) and walk tier, each naming its ``profile``; empty without profiles."""
        given = self.summary.data.get("profiles") or {}
        return pd.DataFrame(given.get("figures") or [],
                            columns=None if given.get("figures") else ["profile", "tags", "tier"])

    @property
    def projection(self) -> pd.DataFrame:
        """Elderly coverage today beside the projected year of ``--year`` (``year=``), a row per
        tier, area and ``scenario`` (``current``; ``planned`` with the suggested sites),
        ``elderly_today`` … ``share_projected``, each row ``projected = True``;
        empty without a projection. The record (year, factors, source) is
        ``summary.data["projection"]["record"]``."""
        given = self.summary.data.get("projection") or {}
        return pd.DataFrame(given.get("figures") or [],
                            columns=None if given.get("figures") else ["tier", "area", "year"])

    @property
    def gaps(self) -> gpd.GeoDataFrame | None:
        """Uncovered areas ranked by the elderly they hold (``rank`` 1 first; one representative
        point per gap zone, EPSG:4326)."""
        return None if self.bundle.gaps is None else ranked_gaps(self.bundle.gaps)

    @property
    def gap_zones(self) -> gpd.GeoSeries | None:
        """The gap zones' polygons (index as in :attr:`gaps`)."""
        return self.bundle.gap_hulls

    @property
    def sites(self) -> gpd.GeoDataFrame | None:
        """Suggested new sites by tier, method and rank (EPSG:4326)."""
        return sites_frame(self.bundle.sites)

    @property
    def isochrones(self) -> gpd.GeoDataFrame:
        """Isochrone bands per tier (and per facility when asked), EPSG:4326."""
        return self.bundle.isochrones

    @property
    def access(self) -> gpd.GeoDataFrame:
        """Accessibility per demand point (2SFCA and E2SFCA places per 1,000 elderly, per tier
        with a capacity rule), EPSG:4326; facility load is in :attr:`facilities`."""
        d = self.bundle.demand
        cols = [c for c in d.columns if c.startswith(("access_2sfca__", "access_e2sfca__"))]
        keep = [c for c in ("cell_id", "pop", "elderly", "county") if c in d.columns]
        return d[[*keep, *cols, d.geometry.name]]

    @property
    def warnings(self) -> list[Mapping[str, Any]]:
        """The run's warnings as ``summary.json`` lists them."""
        return self.summary.warnings

    @property
    def timings(self) -> pd.DataFrame:
        """Wall and CPU seconds of each stage (``depth`` 0) and of the steps inside them."""
        cols = ["name", "wall_s", "cpu_s", "depth", "cached", "worker"]
        return pd.DataFrame([t.to_dict() for t in self.stage_times], columns=cols)

    # ------------------------------------------------------------------ outputs
    def map(self, basemap: str = "osm", max_cells: int = 20000) -> folium.Map:
        """The coverage map as a folium map (shown inline by Jupyter; ``.save(path)`` writes it).

        Parameters
        ----------
        basemap
            ``"osm"``, ``"light"`` or ``"gaode"`` (overlays in GCJ-02).
        max_cells
            Most population cells drawn.
        """
        from carecover.outputs.maps.base import deterministic_ids
        from carecover.outputs.maps.build import make_map

        if basemap not in ("osm", "light", "gaode"):
            raise InputError(f"unknown basemap {basemap!r}", field="basemap", expected="osm, light or gaode")
        with deterministic_ids():
            return make_map(self.bundle, basemap, True, max_cells)

    def publish(self, out: str | Path | None = None) -> dict[str, Path]:
        """Write the output folder of ``carecover plan`` (the same files, byte for byte).

        Parameters
        ----------
        out
            The folder (``params.out`` when not given); staged and moved into place.

        Returns
        -------
        dict
            Relative file name → written path.

        Raises
        ------
        InputError
            A plan read back from a folder (it has no prepared states to write), an output
            that would replace an input, a folder that cannot be written (exit 2).
        """
        from carecover import notices
        from carecover.logs import elapsed
        from carecover.plan.background import jobs
        from carecover.plan.publish import publish as write_folder
        from carecover.plan.runner import StageRunner
        from carecover.utils import log

        if self.siting is None:
            raise InputError("a plan read back from its folder cannot be published again; publish the computed "
                             "plan / 读回的规划结果不能再次输出", file=self.folder, field="plan")
        out = Path(self.params.out if out is None else out)
        run = StageRunner(self.params)
        # the computed plan's warnings first (not shown again), then those of the writing
        with notices.collect(seed=self.notices), jobs():
            written = run.run("publish", write_folder, self.params, self.bundle, self.siting, out,
                              label="输出 / publishing …")
        # the console's clock (one clock: "done in" agrees with the line's own time)
        log(f"完成 / done in {elapsed():.1f} s → {out.resolve()}")
        return written

    def whatif(self, tier: str, base: str = "current") -> Session:
        """The what-if engine on a sited tier: open and close sites, coverage at once.

        Parameters
        ----------
        tier
            A tier with suggested sites (key or alias).
        base
            ``"current"`` (today's facilities) or ``"planned"`` (today's plus the plan's sites).
        """
        from carecover.siting.state import load_state, prepared
        from carecover.siting.whatif import Session
        from carecover.tiers import tier_key

        key = tier_key(tier) or str(tier)
        if key not in self._states:
            if self.siting is not None:
                if key not in self.siting.states:
                    raise InputError(f"no suggested sites for tier '{key}' in this plan (suggest={{'{key}': N}}) / "
                                     "该层级没有选址结果", field="tier", expected=", ".join(self.siting.states) or "none")
                net = None
                if self.results is not None and key in self.params.tiers:
                    net = self.results.nets.get(self.params.site_net_of(key))
                self._states[key] = prepared(self.siting.states[key], key, dict(self.summary.data), net)
            else:
                self._states[key] = load_state(self.folder, key, summary=dict(self.summary.data))
        return Session(self._states[key], base=base)
