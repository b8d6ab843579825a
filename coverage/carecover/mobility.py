"""Mobility profiles: how the walking network looks to different groups of older people.

A :class:`MobilityProfile` is a named, documented, frozen object, resolved once per run
(:func:`resolve_profiles`, into :class:`~carecover.params.RunParams`) and applied to the walk
network by :func:`carecover.network.mobility_net.apply_profile`:

* ``elderly`` — today's walk: every walkable way, steps included, one flat speed (the default).
* ``step_free`` — wheelchair and rollator users. Excluded: ``highway=steps``, ``wheelchair=no``,
  and ways whose tags fail a limit (:data:`STEP_FREE_LIMITS`: raised kerb or kerb height above
  0.03 m, incline steeper than 6 %, loose or rough surface, bad smoothness, width below 0.9 m).
  ``wheelchair=yes|designated|limited`` is passable whatever the other tags say. Where tags are
  missing the figure is a **range**: ``optimistic`` (untagged ways passable) and ``pessimistic``
  (untagged footpaths — ``footway``, ``path``, ``track``, ``bridleway``, ``cycleway``,
  ``corridor`` without a ``surface`` tag — and ways with a non-numeric ``incline`` (``up``,
  ``yes``) excluded; carriageway streets are assumed to have a usable pavement).
  Kerbs are read as way tags only (``kerb=*`` on crossing ways); kerb *nodes* are not read.
* ``winter`` — ice and snow: the walking speed × :data:`WINTER_SPEED_FACTOR` (0.85: the
  middle of the 10–20 % reductions of walking speed reported on icy and snowy pavements;
  set your city's own value in the config), unpaved ways × a further
  :data:`WINTER_UNPAVED_FACTOR` (0.7), steps excluded (icy steps are a fall hazard).
* ``slope`` — a DEM gives each segment its grade (:mod:`carecover.network.dem`, sampled
  every 20 m along the segment); speed = flat speed × Tobler's hiking function normalised to
  1 on the flat, ``exp(-3.5·|g + 0.05|) / exp(-3.5·0.05)``, with the downhill gain capped at
  :data:`DOWNHILL_CAP` (1.0: an older walker goes no faster downhill than on the flat). Times
  are directional and measured **from the resident to the facility**: the routing runs on the
  reverse graph (:func:`carecover.network.mobility.reverse`) with the same engine.

Profiles combine with ``+`` (``step_free+winter+slope``): every part's rules apply.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from carecover.errors import InputError

#: Winter speed factor on every way (0.85 = 15 % slower; published reductions 10–20 %).
WINTER_SPEED_FACTOR = 0.85
#: Further winter factor on unpaved ways (gravel, dirt, grass … under snow).
WINTER_UNPAVED_FACTOR = 0.7
#: Tobler's downhill gain capped at this factor of the flat speed.
DOWNHILL_CAP = 1.0
#: Step-free limits (after openrouteservice's wheelchair profile and ISO 21542).
STEP_FREE_LIMITS = {"kerb_height_m": 0.03, "incline_pct": 6.0, "width_m": 0.9}
ROUGH_SURFACES = frozenset({
    "gravel", "dirt", "earth", "ground", "grass", "sand", "mud", "unpaved", "pebblestone",
    "woodchips", "unhewn_cobblestone", "cobblestone", "rock", "stepping_stones", "grass_paver",
    "shells", "salt", "snow", "ice"})
UNPAVED_SURFACES = ROUGH_SURFACES | {"compacted", "fine_gravel"}
BAD_SMOOTHNESS = frozenset({"bad", "very_bad", "horrible", "very_horrible", "impassable"})
RAISED_KERBS = frozenset({"raised", "yes"})
WHEELCHAIR_YES = frozenset({"yes", "designated", "limited"})
PATH_CLASSES = frozenset({"footway", "path", "track", "bridleway", "cycleway", "corridor"})
PARTS = ("elderly", "step_free", "winter", "slope")
#: Labels of the parts (Chinese / English) for tables.
LABELS = {"elderly": ("一般老年步行者", "average older walker"),
          "step_free": ("轮椅/助行器使用者", "wheelchair and rollator users"),
          "winter": ("冬季冰雪", "in winter"), "slope": ("坡度", "on slopes")}




@dataclass(frozen=True)
class MobilityProfile:
    """One mobility profile (or a combination of parts).

    Attributes
    ----------
    name
        ``elderly`` or the parts joined by ``+`` (``step_free+winter``).
    step_free
        Steps and tagged barriers excluded.
    tags
        For step-free: ``"optimistic"`` (untagged passable) or ``"pessimistic"``.
    winter_factor, winter_unpaved_factor
        Speed factors in winter (1.0 when not winter).
    winter_steps_excluded
        Steps excluded in winter.
    slope
        Directional Tobler slope factors from a DEM.
    downhill_cap
        Cap on Tobler's downhill gain.
    """

    name: str
    step_free: bool = False
    tags: str = "optimistic"
    winter_factor: float = 1.0
    winter_unpaved_factor: float = 1.0
    winter_steps_excluded: bool = False
    slope: bool = False
    downhill_cap: float = DOWNHILL_CAP

    @property
    def parts(self) -> tuple[str, ...]:
        """The named parts (``("elderly",)`` for today's walk)."""
        return tuple(self.name.split("+"))

    @property
    def key(self) -> str:
        """The network this profile routes on, as a key of a run's networks: ``walk`` for
        ``elderly`` (today's walk), else ``walk:<name>`` (``:<tags>`` for step-free)."""
        if self.name == "elderly":
            return "walk"
        return f"walk:{self.name}" + (f":{self.tags}" if self.step_free else "")

    @property
    def short(self) -> str:
        """The name as a figure states it: ``step_free (pessimistic)`` for step-free."""
        return self.name + (f" ({self.tags})" if self.step_free else "")

    @property
    def label(self) -> str:
        """Chinese / English label of the profile."""
        zh = "＋".join(LABELS[p][0] for p in self.parts)
        en = " + ".join(LABELS[p][1] for p in self.parts)
        return f"{zh} / {en}"

    def to_dict(self) -> dict:
        """JSON-serialisable description with the values and their sources."""
        out = {"name": self.name, "label": self.label, "direction": "resident → facility"}
        if self.step_free:
            out["step_free"] = {"excluded": "highway=steps, wheelchair=no, tags over the limits",
                                "limits": dict(STEP_FREE_LIMITS), "untagged": self.tags}
        if self.winter_factor != 1.0:
            out["winter"] = {"speed_factor": self.winter_factor,
                             "unpaved_factor": self.winter_unpaved_factor,
                             "steps": "excluded" if self.winter_steps_excluded else "allowed",
                             "source": "published reductions of walking speed of about 10-20 % "
                                       "on icy and snowy pavements (middle of the range)"}
        if self.slope:
            out["slope"] = {"function": "Tobler exp(-3.5|g+0.05|) normalised to 1 on the flat",
                            "downhill_cap": self.downhill_cap, "sampled_every_m": 20.0}
        return out


#: How the untagged ways of a step-free profile are taken, in words (Chinese, English).
TAG_WORDS = {"pessimistic": ("标签缺失的小路按不可通行", "untagged footpaths taken as impassable"),
             "optimistic": ("标签缺失的路按可通行", "untagged ways taken as passable")}


def words(name: str, tags: str | None = None) -> tuple[str, str]:
    """A profile in plain words (Chinese, English): ``轮椅/助行器使用者（标签缺失的小路按不可通行）``.

    Parameters
    ----------
    name
        The profile's name (parts joined by ``+``).
    tags
        The step-free tag assumption, or ``None``.

    Returns
    -------
    (str, str)
    """
    parts = [LABELS.get(p, (p, p)) for p in name.split("+")]
    zh, en = "＋".join(z for z, _ in parts), " + ".join(e for _, e in parts)
    if tags in TAG_WORDS and "step_free" in name:
        zh, en = f"{zh}（{TAG_WORDS[tags][0]}）", f"{en} ({TAG_WORDS[tags][1]})"
    return zh, en


def make(name: str, *, tags: str = "optimistic", winter_factor: float = WINTER_SPEED_FACTOR,
         winter_unpaved_factor: float = WINTER_UNPAVED_FACTOR) -> MobilityProfile:
    """The profile named ``name`` (parts joined by ``+``).

    Parameters
    ----------
    name
        ``elderly``, ``step_free``, ``winter``, ``slope`` or a ``+`` combination.
    tags
        Untagged ways for step-free: ``optimistic`` or ``pessimistic``.
    winter_factor, winter_unpaved_factor
        Winter speed factors (config values).

    Returns
    -------
    MobilityProfile

    Raises
    ------
    InputError
        For an unknown part or a factor outside (0, 1].
    """
    parts = [p.strip() for p in name.strip().lower().split("+") if p.strip()]
    bad = [p for p in parts if p not in PARTS]
    if not parts or bad:
        raise InputError(f"unknown mobility profile '{name}' / 未知的出行能力档案", field="profiles",
                         expected="elderly, step_free, winter, slope or a + combination")
    for f in (winter_factor, winter_unpaved_factor):
        if not 0 < f <= 1:
            raise InputError(f"冬季步速系数须在 (0, 1] 之间 / winter speed factor must be in (0, 1], got {f}",
                             field="winter_speed_factor")
    parts = [p for p in PARTS if p in parts and (p != "elderly" or len(parts) == 1)]
    winter = "winter" in parts
    return MobilityProfile(
        name="+".join(parts), step_free="step_free" in parts, tags=tags,
        winter_factor=winter_factor if winter else 1.0,
        winter_unpaved_factor=winter_unpaved_factor if winter else 1.0,
        winter_steps_excluded=winter, slope="slope" in parts)


def resolve_profiles(text: str | list[str] | tuple[str, ...] | None, **values) -> tuple[MobilityProfile, ...]:
    """Profiles of a ``--profiles`` list (``"elderly,step_free+winter"``), each step-free
    profile as its optimistic and pessimistic pair; ``()`` when none are asked for.

    Parameters
    ----------
    text
        Comma-separated names, or a list of names.
    **values
        Winter factors passed to :func:`make`.

    Returns
    -------
    tuple of MobilityProfile
    """
    if not text:
        return ()
    names = text.split(",") if isinstance(text, str) else list(text)
    out: list[MobilityProfile] = []
    for n in names:
        p = make(n, **values)
        variants = [replace(p, tags="optimistic"), replace(p, tags="pessimistic")] if p.step_free else [p]
        out += [v for v in variants if v not in out]
    return tuple(out)


def tobler(grade: np.ndarray, cap: float = DOWNHILL_CAP) -> np.ndarray:
    """Tobler's hiking function normalised to 1 on the flat, capped at ``cap``.

    Parameters
    ----------
    grade
        Rise over run (0.1 = 10 % uphill, negative downhill).
    cap
        Largest factor (Tobler's own maximum is 1.19 at a 5 % descent).

    Returns
    -------
    numpy.ndarray
        Speed factors.
    """
    f = np.exp(-3.5 * np.abs(np.asarray(grade, float) + 0.05)) / math.exp(-3.5 * 0.05)
    return np.minimum(f, cap)


