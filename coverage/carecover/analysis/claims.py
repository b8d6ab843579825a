"""Claims (TOML) checked against computed coverage figures → PASS / FAIL / NOT EVALUATED.

A claims file quotes what a government document states ("community-level facilities cover
over 90%") and says how to test it: which tiers, which population, which area, which
threshold and speed, and the target. :func:`evaluate_claims` matches each claim to one of the
figures a run computed and compares. A claim with no matching figure is NOT EVALUATED, with
the reason, never silently dropped.

Claim keys
----------
``id``, ``text_zh``, ``text_en``, ``source`` (document and date), ``kind``
(``population`` | ``administrative`` | ``all_of``), ``tiers`` (list of tier keys),
``population`` (``elderly`` | ``total``; population/all_of only), ``threshold_min`` (default:
the tier's), ``speed_mps`` (default: the run's main walking speed), ``op`` (``>=``, ``>``,
``<=``, ``<``, ``==``), ``value`` (share 0..1), ``tolerance`` (for ``==``; default 0.0005,
i.e. the rounding of a percentage quoted to one decimal), ``area`` (``all``, ``urban``,
``rural`` or a county name), ``unit`` (administrative: ``street``, ``township`` ...),
``scenario`` (``current`` or ``planned``: after the planned builds), ``basis`` (``reported``
state or a ``target``), ``year``, ``note``, ``profile`` (population claims: a mobility profile of
``--profiles``, e.g. ``step_free``; a step-free claim is tested on the pessimistic figure).

Capacity-aware accessibility (issue 13) is claimed with ``kind = "access"``, a ``measure``
(``places_per_1000`` — places per 1,000 elderly within reach, ``value`` any number >= 0;
``share_below_standard`` — share of the elderly below the config's ``standard_per_1000``;
``gini`` — Gini of accessibility over the elderly, 0..1) and a ``method`` (``2sfca`` or
``e2sfca``, default ``e2sfca``); population is always the elderly.

Figures
-------
Dicts with ``kind``, ``tiers``, ``population``, ``area``, ``threshold_min``, ``speed_mps``,
``mode``, ``value``, ``covered``, ``total``, ``data`` and optionally ``unit`` and
``scenario`` (default ``current``); see ``coverage_figures.py``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from carecover import mobility
from carecover.config import (
    ADMIN_UNITS,
    AREA_GROUPS,
    UNKNOWN,
    did_you_mean,
    read_toml,
    validate_schema,
)
from carecover.errors import InputError
from carecover.records import Figure
from carecover.summary_file import SummaryFile
from carecover.tiers import TIERS, Tier, tier_key
from carecover.vocab import term

KINDS = ("population", "administrative", "all_of", "access")
#: What an access claim measures, and the methods (carecover.analysis.supply, .access).
ACCESS_MEASURES = ("places_per_1000", "share_below_standard", "gini")
ACCESS_METHODS = ("2sfca", "e2sfca")
POPULATIONS = ("elderly", "total")
OPS = (">=", ">", "<=", "<", "==")
SCENARIOS = ("current", "planned")
BASES = ("reported", "target")
PASS, FAIL, NOT_EVALUATED = "PASS", "FAIL", "NOT EVALUATED"
RESULT_ZH = {PASS: "通过", FAIL: "未通过", NOT_EVALUATED: "未评估"}

_CLAIM_SCHEMA = {
    "id": "str", "text_zh": "str", "text_en": "str", "source": "str", "kind": "str",
    "tiers": "str|list[str]", "population": "str", "threshold_min": "float",
    "speed_mps": "float", "op": "str", "value": "float", "tolerance": "float", "area": "str",
    "unit": "str", "scenario": "str", "basis": "str", "year": "int", "note": "str",
    "measure": "str", "method": "str", "profile": "str",
}
_FILE_SCHEMA = {"city": "str", "notes": "str", "claim": ("array", _CLAIM_SCHEMA)}

#: Columns of the table :func:`evaluate_claims` returns (also ``claims.csv``).
COLUMNS = ["id", "claim_zh", "claim_en", "source", "basis", "year", "kind", "tiers", "unit",
           "area", "population", "threshold_min", "speed_mps", "mode", "scenario", "measure", "method", "op",
           "target", "computed", "covered", "total", "result", "reason", "data"]


@dataclass(frozen=True)
class Claim:
    """One claim from a claims file (see the module docstring for the keys)."""

    id: str
    text_zh: str
    text_en: str
    source: str
    kind: str
    tiers: tuple[str, ...]
    op: str
    value: float
    population: str | None = "elderly"
    threshold_min: float | None = None
    speed_mps: float | None = None
    tolerance: float = 0.0005
    area: str = "all"
    unit: str | None = None
    scenario: str = "current"
    basis: str = "reported"
    year: int | None = None
    note: str = ""
    measure: str | None = None
    method: str | None = None
    profile: str | None = None

    def compare(self, computed: float) -> bool:
        """Whether ``computed`` satisfies ``op value`` (tiny float slack for ``>=``/``<=``)."""
        eps = 1e-9
        if self.op == ">=":
            return computed >= self.value - eps
        if self.op == ">":
            return computed > self.value + eps
        if self.op == "<=":
            return computed <= self.value + eps
        if self.op == "<":
            return computed < self.value - eps
        return abs(computed - self.value) <= self.tolerance + eps


def load_claims(path: str | Path, counties: list[str] | None = None) -> list[Claim]:
    """Read and validate a claims TOML file.

    Parameters
    ----------
    path
        The claims file (``[[claim]]`` tables).
    counties
        County names an ``area`` may name besides ``all``/``urban``/``rural``; when ``None``
        any area name is accepted (and a claim on an area the run did not compute reads NOT
        EVALUATED).

    Raises
    ------
    InputError
        Unknown key (with the closest valid key), wrong type, unknown tier, kind, op,
        population, scenario or area, missing required key, duplicate id.
    """
    path = Path(path)
    raw = read_toml(path, "claims file not found / 声明文件不存在")
    data = validate_schema(raw, _FILE_SCHEMA, path)
    claims: list[Claim] = []
    seen: set[str] = set()
    for i, c in enumerate(data.get("claim", [])):
        where = f"claim[{i}]"

        def err(msg: str, key: str, expected: str | None = None, _w: str = where) -> InputError:
            return InputError(msg, file=path, field=f"{_w}.{key}", expected=expected)

        for key in ("id", "kind", "tiers", "op", "value"):
            if key not in c:
                raise err("required key missing / 缺少必填键", key)
        if c["id"] in seen:
            raise err(f"duplicate id '{c['id']}' / 重复的 id", "id")
        seen.add(c["id"])
        where = f"claim '{c['id']}'"
        if c["kind"] not in KINDS:
            raise err(f"unknown kind '{c['kind']}'", "kind", ", ".join(KINDS))
        given = (c["tiers"],) if isinstance(c["tiers"], str) else tuple(c["tiers"])
        if not given:
            raise err("at least one tier is needed", "tiers")
        for t in given:
            if tier_key(t) is None:
                raise err(f"unknown tier '{t}' / 未知层级" + did_you_mean(t, list(TIERS)), "tiers")
        tiers = tuple(tier_key(t) for t in given)
        if c["op"] not in OPS:
            raise err(f"unknown op '{c['op']}'", "op", " ".join(OPS))
        measure, method = _access_keys(c, err)
        if measure == "places_per_1000":
            if not c["value"] >= 0:
                raise err(f"value must be places per 1,000 elderly >= 0, got {c['value']}", "value",
                          "e.g. 20 for 20 places per 1,000 elderly")
        elif not 0 <= c["value"] <= 1:
            raise err(f"value must be a share between 0 and 1, got {c['value']}", "value",
                      "e.g. 0.9 for 90%")
        pop = c.get("population", "elderly" if c["kind"] != "administrative" else None)
        if c["kind"] == "access" and pop != "elderly":
            raise err(f"access is measured for the elderly only, got '{pop}'", "population", "elderly")
        if pop is not None and pop not in POPULATIONS:
            raise err(f"unknown population '{pop}'", "population", " or ".join(POPULATIONS))
        unit = c.get("unit")
        if c["kind"] == "administrative":
            unit = unit or TIERS[tiers[0]].unit
            if unit not in ADMIN_UNITS:
                raise err(f"unknown unit '{unit}'", "unit", ", ".join(ADMIN_UNITS))
        area = c.get("area", "all")
        if counties is not None and area not in AREA_GROUPS and area not in counties:
            raise err(f"unknown area '{area}'", "area",
                      "all, urban, rural or one of: " + ", ".join(counties))
        for key, allowed in (("scenario", SCENARIOS), ("basis", BASES)):
            if key in c and c[key] not in allowed:
                raise err(f"unknown {key} '{c[key]}'", key, " or ".join(allowed))
        for key in ("threshold_min", "speed_mps"):
            if key in c and not c[key] > 0:
                raise err("must be positive", key, "a number > 0")
        claims.append(Claim(
            id=c["id"], text_zh=c.get("text_zh", ""), text_en=c.get("text_en", ""),
            source=c.get("source", ""), kind=c["kind"], tiers=tiers, op=c["op"],
            value=c["value"], population=pop if c["kind"] != "administrative" else None,
            threshold_min=c.get("threshold_min"), speed_mps=c.get("speed_mps"),
            tolerance=c.get("tolerance", 0.0005), area=area, unit=unit,
            scenario=c.get("scenario", "current"), basis=c.get("basis", "reported"),
            year=c.get("year"), note=c.get("note", ""), measure=measure, method=method,
            profile=_profile(c, err)))
    return claims


def _profile(c: dict, err) -> str | None:
    """A population claim's mobility profile (``step_free+winter`` …), normalised; ``None``
    when the claim names none."""
    if "profile" not in c:
        return None
    if c["kind"] != "population":
        raise err("'profile' applies to population claims only", "profile", 'kind = "population"')
    try:
        return mobility.make(c["profile"]).name
    except InputError as exc:
        raise err(f"unknown mobility profile '{c['profile']}' / 未知的出行能力档案", "profile",
                  "elderly, step_free, winter, slope or a + combination") from exc


def _access_keys(c: dict, err) -> tuple[str | None, str | None]:
    """``measure`` and ``method`` of an access claim (defaults ``places_per_1000``, ``e2sfca``);
    ``(None, None)`` for other kinds, which may not set them."""
    if c["kind"] != "access":
        for key in ("measure", "method"):
            if key in c:
                raise err(f"'{key}' applies to access claims only", key, 'kind = "access"')
        return None, None
    measure = c.get("measure", "places_per_1000")
    method = c.get("method", "e2sfca")
    if measure not in ACCESS_MEASURES:
        raise err(f"unknown measure '{measure}'" + did_you_mean(measure, list(ACCESS_MEASURES)), "measure",
                  ", ".join(ACCESS_MEASURES))
    if method not in ACCESS_METHODS:
        raise err(f"unknown method '{method}'", "method", " or ".join(ACCESS_METHODS))
    return measure, method


def _close(a: Any, b: Any) -> bool:
    return a is not None and b is not None and math.isclose(float(a), float(b), abs_tol=1e-6)


def _default_threshold(claim: Claim, tiers: Mapping[str, Tier]) -> float | None:
    values = {tiers[t].threshold_min for t in claim.tiers}
    return values.pop() if len(values) == 1 else None


def _match(claim: Claim, figures: list[Figure], tiers: Mapping[str, Tier],
           main_speed: float) -> tuple[Figure | None, str]:
    """The figure that tests ``claim`` (first match), or ``None`` and why there is none."""
    tiers_txt = ", ".join(claim.tiers)
    want_thr = claim.threshold_min if claim.threshold_min is not None else _default_threshold(claim, tiers)
    want_speed = claim.speed_mps if claim.speed_mps is not None else main_speed
    if claim.kind == "administrative":
        no_tier = (f"无 {claim.unit} 单元的行政统计（总数未知：请提供边界或 admin_units.{claim.unit}） / "
                   f"no administrative figure for unit '{claim.unit}' (totals unknown: supply "
                   f"boundaries or admin_units.{claim.unit})")
    else:
        no_tier = (f"本次运行无层级 {tiers_txt} 的{claim.kind}数据 / no {claim.kind} figure for "
                   f"tier(s) {tiers_txt} in this run")
    steps = [
        (lambda f: f.get("kind") == claim.kind, no_tier),
        (lambda f: set(f.get("tiers") or ()) == set(claim.tiers), no_tier),
        # a profile's figures answer only claims naming it (a tier measured with a profile also
        # those naming none); step-free claims are tested on the pessimistic figure (the claim
        # must hold where tags are missing too)
        (lambda f: (f.get("profile") == claim.profile or (claim.profile is None and f.get("profile_of") == "tier")) and (
            claim.profile is None or "step_free" not in claim.profile or f.get("tags") == "pessimistic"),
         f"本次运行无出行能力档案“{claim.profile}”的数据（--profiles） / no figure for mobility profile "
         f"'{claim.profile}' in this run (--profiles)"),
        (lambda f: claim.kind != "access" or (f.get("measure") == claim.measure and f.get("method") == claim.method),
         f"无 {claim.measure} ({claim.method}) 数据（未配置容量或标准？） / no {claim.measure} figure by {claim.method} "
         "(no capacity rule, or no standard_per_1000?)"),
        (lambda f: claim.kind != "administrative" or f.get("unit") in (None, claim.unit),
         f"无 {claim.unit} 单元的行政统计 / no administrative figure for unit '{claim.unit}'"),
        (lambda f: f.get("scenario", "current") == claim.scenario,
         f"无“{claim.scenario}”情景数据（未给出规划新建数？） / no '{claim.scenario}' scenario figure (planned builds not given?)"),
        (lambda f: f.get("area", "all") == claim.area,
         f"无区域“{claim.area}”的数据（缺县区边界或城乡类型？） / no figure for area '{claim.area}' (county boundaries or kinds missing?)"),
        (lambda f: claim.kind == "administrative" or f.get("population") == claim.population,
         f"无人口口径“{claim.population}”的数据 / no figure for population '{claim.population}'"),
        (lambda f: claim.kind == "administrative" or f.get("threshold_min") is None
         or want_thr is None or _close(f.get("threshold_min"), want_thr),
         f"无 {want_thr} 分钟阈值的数据 / no figure at threshold {want_thr} min"),
        (lambda f: claim.kind == "administrative" or f.get("speed_mps") is None
         or _close(f.get("speed_mps"), want_speed),
         f"无步速 {want_speed} m/s 的数据 / no figure at walking speed {want_speed} m/s"),
    ]
    pool = [Figure.of(f) for f in figures]
    for keep, reason in steps:
        pool = [f for f in pool if keep(f)]
        if not pool:
            return None, reason
    return pool[0], ""


def evaluate_claims(claims: list[Claim], figures: list[Figure | dict], tiers: Mapping[str, Tier], *,
                    walk_speed_mps: float) -> pd.DataFrame:
    """Check each claim against the computed figures.

    Parameters
    ----------
    claims
        From :func:`load_claims`.
    figures
        The figures (:class:`~carecover.records.Figure`, or figure dicts of the coverage step
        and ``CityConfig.admin_figures()``).
    tiers
        Tiers as resolved for the run (for a claim's default threshold).
    walk_speed_mps
        The run's walking speed (a claim's default speed).

    Returns
    -------
    pandas.DataFrame
        One row per claim, in file order, columns :data:`COLUMNS`; ``result`` is PASS, FAIL
        or NOT EVALUATED and ``reason`` says why a claim was not evaluated.
    """
    speed = float(walk_speed_mps)
    rows = []
    for claim in claims:
        fig, reason = _match(claim, figures, tiers, speed)
        computed = fig.get("value") if fig else None
        if fig is not None and (computed is None or (isinstance(computed, float) and math.isnan(computed))):
            reason = "数据无数值（无可计数对象？） / figure has no value (nothing to count?)"
            computed = None
        if computed is None:
            result = NOT_EVALUATED
        else:
            result = PASS if claim.compare(float(computed)) else FAIL
        thr = (fig or {}).get("threshold_min")
        spd = (fig or {}).get("speed_mps")
        if fig is None and claim.kind != "administrative":
            thr = claim.threshold_min if claim.threshold_min is not None else _default_threshold(claim, tiers)
            spd = claim.speed_mps if claim.speed_mps is not None else speed
        rows.append({
            "id": claim.id, "claim_zh": claim.text_zh, "claim_en": claim.text_en,
            "source": claim.source, "basis": claim.basis, "year": claim.year,
            "kind": claim.kind, "tiers": ",".join(claim.tiers), "unit": claim.unit,
            "area": claim.area, "population": claim.population,
            "threshold_min": thr if claim.kind != "administrative" else None,
            "speed_mps": spd if claim.kind != "administrative" else None,
            "mode": (fig or {}).get("mode"), "scenario": claim.scenario, "measure": claim.measure,
            "method": claim.method, "op": claim.op,
            "target": claim.value, "computed": None if computed is None else float(computed),
            "covered": (fig or {}).get("covered"), "total": (fig or {}).get("total"),
            "result": result, "reason": reason,
            "data": json.dumps((fig or {}).get("data") or {}, ensure_ascii=False, sort_keys=True,
                               default=str),
            "profile": claim.profile,
        })
    # the profile column only when a claim names a profile (other runs' tables unchanged)
    return pd.DataFrame(rows, columns=COLUMNS + (["profile"] if any(c.profile for c in claims) else []))


def _pct(x: Any) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    return f"{100 * float(x):.1f}%"


def format_value(x: Any, measure: Any = None) -> str:
    """A figure or target as people read it: a share as a percentage, places per 1,000 elderly
    and a Gini as numbers."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    if measure == "places_per_1000":
        return f"{float(x):,.1f} per 1,000"  # places per 1,000 elderly
    if measure == "gini":
        return f"{float(x):.3f}"
    return _pct(x)


def _count(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    return f"{float(v):,.0f}" if not float(v).is_integer() or abs(float(v)) >= 1000 else f"{int(v)}"


def claims_heading(table) -> str:
    """The line over the console's claims table: what it is, and how many pass and fail (a
    FAIL is a finding about a claim, not an error of the run)."""
    n = len(table)
    passed = int((table["result"] == "PASS").sum())
    failed = int((table["result"] == "FAIL").sum())
    return (f"声明核验 / claims checked against this run: {n} 条声明，{passed} 条通过，{failed} 条未通过"
            f"（未通过是对声明的结论，不是运行错误）/ {n} claims, {passed} pass, {failed} fail (a FAIL is a "
            "finding about the claim, not an error of the run)")


def claims_table_text(df: pd.DataFrame, lang: str = "zh", width: int = 120) -> str:
    """Plain-text PASS/FAIL table of :func:`evaluate_claims` output for the terminal.

    ``lang="zh"`` shows Chinese first with English beside it; ``"en"`` English only.
    """
    from rich import box
    from rich.console import Console
    from rich.table import Table

    zh = lang == "zh"
    la = "zh" if zh else "en"
    table = Table(box=box.SIMPLE, show_lines=False, expand=False)
    for head in (("编号", "ID"), ("声明", "Claim"), ("计算值", "Computed"), ("目标", "Target"),
                 ("结果", "Result"), ("参数 / 说明", "Parameters / reason")):
        table.add_column(f"{head[0]} {head[1]}" if zh else head[1], overflow="fold")
    for r in df.itertuples(index=False):
        text = (f"{r.claim_zh}\n{r.claim_en}" if zh and r.claim_en else
                (r.claim_zh if zh else (r.claim_en or r.claim_zh)))
        measure = r.measure if isinstance(r.measure, str) else None
        computed = format_value(r.computed, measure)
        if (measure in (None, "share_below_standard") and r.covered is not None and r.total is not None
                and not pd.isna(r.covered) and not pd.isna(r.total)):
            computed += f" ({_count(r.covered)}/{_count(r.total)})"
        result = f"{RESULT_ZH[r.result]} {r.result}" if zh else r.result
        if r.kind == "administrative":
            params = f"unit={r.unit}, area={r.area}"
        else:
            thr = "" if r.threshold_min is None or pd.isna(r.threshold_min) else \
                (f"{r.threshold_min:g} 分钟" if zh else f"{r.threshold_min:g} min")
            spd = "" if r.speed_mps is None or pd.isna(r.speed_mps) else f"{r.speed_mps:g} m/s"
            params = ", ".join(x for x in (term(r.population, "population", la), term(r.area, "area", la), thr, spd,
                                           term(r.mode, "mode", la) if isinstance(r.mode, str) else "") if x)
        if r.scenario != "current":
            params += f", {term(r.scenario, 'scenario', la)}"
        if r.reason:
            params += f"\n{r.reason}"
        if measure:
            params = f"{term(measure, 'measure', la)} ({term(r.method, 'method', la)}), " + params
        table.add_row(r.id, text, computed, f"{r.op} {format_value(r.target, measure)}", result, params)
    console = Console(width=width, record=True, file=_Null(), color_system=None,
                      force_terminal=False)
    console.print(table)
    return console.export_text()


class _Null:
    """A write-only sink so rich renders to its record buffer only."""

    def write(self, _s: str) -> int:
        return 0

    def flush(self) -> None:
        pass


__all__ = ["Claim", "load_claims", "evaluate_claims", "claims_heading", "claims_table_text", "COLUMNS", "PASS",
           "FAIL", "NOT_EVALUATED", "UNKNOWN"]


def read_summary(path: str | Path) -> SummaryFile:
    """The ``summary.json`` of an earlier run (:meth:`SummaryFile.read
    <carecover.summary_file.SummaryFile.read>`: one clear error naming the file)."""
    return SummaryFile.read(path)


def tiers_of_summary(summary: SummaryFile, fallback: Mapping[str, Tier] | None = None) -> dict[str, Tier]:
    """Tiers with the mode and threshold the run used, so a claim without its own threshold is
    tested at the run's threshold of its tier — 5 minutes in a 5-minute run, never an assumed 15
    (:meth:`SummaryFile.tiers <carecover.summary_file.SummaryFile.tiers>`)."""
    return summary.tiers(fallback)
