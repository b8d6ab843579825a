"""The one reader of ``summary.json``: :class:`SummaryFile`.

Claims (``carecover check-claims``), the meeting commands, the report and region runs read a
finished run through it — figures as :class:`~carecover.records.Figure`, each tier's siting as
:class:`~carecover.records.SiteInfo`, the parameters the run used — instead of looking keys up
in the dictionary. Reading never changes the file; the writer is
:func:`carecover.plan.assemble.summary` (keys of figures and sites spelled in
:mod:`carecover.records`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from carecover.errors import InputError
from carecover.filelimits import not_special
from carecover.records import Figure, SiteInfo
from carecover.tiers import TIERS, Tier

__all__ = ["SummaryFile", "read_summary"]


@dataclass(frozen=True)
class SummaryFile:
    """``summary.json`` of one run, read.

    Attributes
    ----------
    data
        The file's content as written (read-only use).
    figures
        Every figure.
    sites
        Each sited tier's :class:`~carecover.records.SiteInfo`.
    path
        The file (``None`` for a summary held in memory).
    """

    data: Mapping[str, Any]
    figures: tuple[Figure, ...] = ()
    sites: Mapping[str, SiteInfo] = field(default_factory=dict)
    path: Path | None = None

    @classmethod
    def of(cls, data: Mapping[str, Any], path: Path | None = None) -> SummaryFile:
        """A summary's content (as :func:`json.load` gives it) as a :class:`SummaryFile`."""
        figures = tuple(Figure.from_dict(f) for f in data.get("figures") or () if isinstance(f, Mapping))
        # a plan states its sites by tier (a region run lists them: not read here)
        given = data.get("sites")
        sites = {k: SiteInfo.from_dict(v, k) for k, v in given.items() if isinstance(v, Mapping)} \
            if isinstance(given, Mapping) else {}
        return cls(data, figures, MappingProxyType(sites), path)

    @classmethod
    def read(cls, path: str | Path) -> SummaryFile:
        """Read ``summary.json``.

        Raises
        ------
        InputError
            Missing, a folder, unreadable, truncated or not a carecover summary
            (one line naming the file).
        """
        p = Path(path)
        if not p.exists():
            raise InputError("summary.json not found: run `carecover plan` first / 请先运行 plan", file=p)
        if p.is_dir():
            raise InputError("is a folder, not a summary.json file / 是文件夹而不是 summary.json", file=p,
                             expected="the summary.json of a `carecover plan` run")
        not_special(p, "summary.json")
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except UnicodeDecodeError as exc:
            raise InputError(f"not UTF-8 text ({exc.reason}) / 不是 UTF-8 文本", file=p) from None
        except json.JSONDecodeError as exc:
            raise InputError(f"not valid JSON (truncated or damaged?) at line {exc.lineno} column {exc.colno}: "
                             f"{exc.msg} / JSON 无效（文件不完整或已损坏？）", file=p) from None
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror} / 无法读取", file=p) from None
        if not isinstance(data, dict) or not isinstance(data.get("figures"), list):
            raise InputError("not a carecover summary (no 'figures' list) / 不是 carecover 的 summary.json",
                             file=p, field="figures")
        return cls.of(data, p)

    # ------------------------------------------------------------------ the run's parameters
    @property
    def parameters(self) -> Mapping[str, Any]:
        """The parameters as the run stated them (``RunParams.to_dict``)."""
        return self.data.get("parameters") or {}

    @property
    def speed_mps(self) -> float | None:
        """The run's main walking speed (``None`` when the summary does not state it)."""
        return self.parameters.get("speed_mps")

    def tiers(self, fallback: Mapping[str, Tier] | None = None) -> dict[str, Tier]:
        """Tiers with the mode and threshold the run used, so a figure or claim is read at the
        run's threshold of its tier (never an assumed 15 minutes); tiers the summary does not
        list come from ``fallback`` (the config's), else the defaults."""
        out = dict(fallback if fallback is not None else TIERS)
        for key, t in (self.parameters.get("tiers") or {}).items():
            base = out.get(key) or TIERS.get(key)
            if base is None or not isinstance(t, dict):
                continue
            out[key] = replace(base, mode=t.get("mode", base.mode),
                               threshold_min=float(t.get("threshold_min", base.threshold_min)))
        return out

    @property
    def crs_in(self) -> str | None:
        """The register coordinate system the run was told (``--crs``), else ``None``."""
        return self.parameters.get("crs_in")

    # ------------------------------------------------------------------ what it states
    @property
    def sample_data(self) -> str | None:
        """The note of a run on sample data (``None`` for real data)."""
        note = self.data.get("sample_data")
        return None if not note else str(note)

    @property
    def total_elderly(self) -> float:
        """The study area's elderly residents (NaN when not stated)."""
        return float((self.data.get("population") or {}).get("total_elderly", float("nan")))

    @property
    def total_pop(self) -> float:
        """The study area's residents (NaN when not stated)."""
        return float((self.data.get("population") or {}).get("total_pop", float("nan")))

    @property
    def title(self) -> str:
        """The run's title."""
        return str(self.data.get("title") or "")

    @property
    def warnings(self) -> list[Mapping[str, Any]]:
        """The run's warnings (``code``, ``message``, ``kind``, ``file``, ``field``, ``value``)."""
        return list(self.data.get("warnings") or [])

    def figure(self, tier: str, scenario: str = "current", population: str = "elderly",
               area: str = "all", kind: str = "population") -> Figure | None:
        """A tier's figure at the run's main walking speed (``None`` if absent).

        Parameters
        ----------
        tier
            Tier key.
        scenario, population, area, kind
            ``current``/``planned``, ``elderly``/``total``, the reporting area, the kind.
        """
        speed = self.speed_mps
        for f in self.figures:
            if (f.kind == kind and f.tiers == (tier,) and f.scenario == scenario and f.population == population
                    and f.area == area
                    and (f.speed_mps is None or speed is None or abs(f.speed_mps - speed) < 1e-9)):
                return f
        return None


def read_summary(path: str | Path) -> SummaryFile:
    """:meth:`SummaryFile.read`."""
    return SummaryFile.read(path)
