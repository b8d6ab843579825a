"""Global defaults (in the style of ``osmnx.settings``).

Every value here can be overridden per run through a city config or the command line, and
every value that shapes a figure is written into ``summary.json`` beside that figure.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Default walking speed in m/s (older adults; GB 50180-2018 15-min circle ~ 800-1,000 m).
walk_speed_mps: float = 1.0
#: Walking speeds for the sensitivity band reported beside every headline figure.
sensitivity_speeds_mps: tuple[float, ...] = (0.8, 1.2)
#: Default 15-minute (一刻钟) threshold in minutes.
threshold_min: float = 15.0
#: Isochrone bands in minutes.
bands_min: tuple[float, ...] = (5.0, 10.0, 15.0)
#: Largest distance (m) a point may be moved onto the street network; beyond it: unsnapped.
max_snap_m: float = 300.0
#: A suggested site within this distance (m, straight line to the outline) of a public facility
#: (school, clinic …, ``--candidates-from-osm``) is co-located with it (一老一小).
colocation_within_m: float = 100.0
#: Half-width (m) of the buffer drawn around reached street segments for isochrone polygons.
isochrone_buffer_m: float = 25.0
#: Straight-line radius (m) of the circles compared with the network; ``None``: each tier's
#: threshold × walking speed (a 15-minute walk at 1.0 m/s → 900 m). A config may set one (plans
#: commonly draw 1,000 m for the 15-minute circle).
circle_radius_m: float | None = None

#: Drive speeds (km/h) by OSM highway class, used when ``maxspeed`` is not tagged.
drive_speeds_kph: dict[str, float] = {
    "motorway": 90.0,
    "motorway_link": 50.0,
    "trunk": 70.0,
    "trunk_link": 40.0,
    "primary": 50.0,
    "primary_link": 35.0,
    "secondary": 45.0,
    "secondary_link": 30.0,
    "tertiary": 40.0,
    "tertiary_link": 30.0,
    "unclassified": 30.0,
    "residential": 25.0,
    "living_street": 10.0,
    "service": 15.0,
    "road": 25.0,
    "track": 15.0,
}
#: Fallback drive speed (km/h) for unknown classes.
drive_default_kph: float = 25.0

#: Time limit (s) of the exact (HiGHS) siting model.
exact_time_limit_s: float = 30.0
#: Most candidate sites per tier (street junctions thinned on a grid).
max_candidates: int = 5000
#: Most candidate sites for a drive tier (drive catchments are large, so matrices are too).
max_candidates_drive: int = 1500
#: Target share for "how many sites reach it" (coverage curve).
target_share: float = 0.9
#: The map draws a gap only when it holds at least this share of its tier's uncovered elderly
#: (and every gap a suggested site serves); all gaps stay in the tables.
map_min_gap_share: float = 0.01
#: Population field of vector population files.
population_field: str = "pop"
#: Buffer (m) around the boundary within which streets are kept, so that residents near the
#: edge can reach facilities just across it.
routing_margin_m: float = 2000.0

#: Where built graphs and prepared states are cached.
cache_dir: Path = Path(os.environ.get("CARECOVER_CACHE", Path.home() / ".cache" / "carecover"))

#: Seed for anything random (sampling for polygon fidelity, synthetic benchmarks).
random_seed: int = 20250625

#: Share of residents aged 60+ when no better figure is given (Inner Mongolia, 7th census 2020).
default_elderly_share: float = 0.198

#: Distance decay of the enhanced two-step floating catchment (E2SFCA): ``"bands"`` (the tier's
#: threshold cut into equal bands weighted by :data:`access_band_weights`) or ``"gaussian"``.
access_decay: str = "bands"
#: E2SFCA band weights, nearest band first (Luo & Qi 2009: 0–5 / 5–10 / 10–15 min → 1.00 / 0.68 /
#: 0.22 for a 15-minute catchment).
access_band_weights: tuple[float, ...] = (1.0, 0.68, 0.22)
