"""What the user asked of ``carecover region``, unresolved (``None`` = not given)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RegionOptions:
    """Options of ``carecover region`` as given (see ``carecover region --help``).

    Attributes
    ----------
    areas
        The areas file (:mod:`carecover.region.areas`).
    out
        Output folder.
    workers
        Worker processes of the local cluster (default 2); ignored with ``scheduler``.
    scheduler
        Address of an existing Dask scheduler (``tcp://host:8786``).
    suggest
        One region-wide budget per tier (``(tier, count)``), solved once over every area;
        without it each area's own ``planned`` counts are solved per area.
    walk_speed_mps
        Walking speed (all areas).
    cache
        Cache folder (default ``settings.cache_dir``), or ``False`` (tasks are not stored).
    candidate_cell_m
        Grid cell (m) thinning junction candidates region-wide (default 250).
    exact_time_limit_s
        Time limit of each exact siting solve.
    dashboard
        Start the Dask dashboard of a local cluster, on 127.0.0.1 (default off).
    lang
        ``zh`` or ``en``.
    command
        The command as run (for the summary).
    """

    areas: Path
    out: Path | None = None
    workers: int | None = None
    scheduler: str | None = None
    suggest: tuple[tuple[str, int | str], ...] | None = None
    walk_speed_mps: float | None = None
    cache: bool | Path | None = None
    candidate_cell_m: float | None = None
    exact_time_limit_s: float | None = None
    dashboard: bool | None = None
    lang: str | None = None
    command: str | None = None
