"""Golden runs: fixed inputs, the command line that runs them, and the tables compared.

Recorded before the staged redesign (issue 10) with ``python scripts/record_golden.py`` and
kept in ``tests/data/golden/<case>/expected/``; ``tests/test_golden.py`` reruns each case and
compares. A change to an expected file is an *intended* change and is listed in the closing
note of the issue that made it.

Cases: the bundled demo (Nanjing around 新街口, 15 minutes, four tiers) and the former Helsinki
demo (``demo --sample helsinki``, its goldens kept as recorded); Monaco (pbf, buildings population); Andorra (pbf, drive tier and
township siting); Nanjing 玄武区 (real Chinese OSM XML, a population GeoTIFF).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "data" / "golden"
SHARED = ROOT.parent / "shared" / "data"
EPOCH = "1750809600"  # 2025-06-25T00:00:00Z

MONACO_REGISTER = """编号,名称,层级,经度,纬度
M1,社区站1,社区养老服务站,7.4173948,43.7416784
M2,社区站2,社区养老服务站,7.4353233,43.7484545
M3,社区站3,社区养老服务站,7.3995086,43.7358152
M4,助餐点1,老年助餐点,7.4236041,43.7331004
M5,助餐点2,老年助餐点,7.4084608,43.7475079
M6,坏坐标,社区养老服务站,abc,43.74
M7,未知层级,养老院,7.42,43.74
"""

#: Tables compared, and the columns left out of the comparison (none so far).
TABLES = ("coverage.csv", "gaps.csv", "sites.csv", "facilities.csv", "site_curve.csv")


def needs(case: str) -> list[Path]:
    """Shared files a case reads (the test skips when one is absent)."""
    return {"demo": [], "demo_helsinki": [],
            "monaco": [SHARED / "osm" / "monaco.osm.pbf"],
            "andorra": [SHARED / "osm" / "andorra.osm.pbf"],
            "nanjing": [SHARED / "china" / "nanjing_xuanwu.osm"]}[case]


def argv(case: str, work: Path) -> list[str]:
    """The ``carecover`` command line of a case, writing into ``work / 'out'``."""
    out = str(work / "out")
    if case == "demo":
        return ["--quiet", "demo", "--out", out]
    if case == "demo_helsinki":
        return ["--quiet", "demo", "--sample", "helsinki", "--out", out]
    if case == "monaco":
        reg = work / "register.csv"
        reg.write_text(MONACO_REGISTER, encoding="utf-8")
        return ["--quiet", "plan", "--network", str(SHARED / "osm" / "monaco.osm.pbf"),
                "--facilities", str(reg), "--total-population", "38000",
                "--suggest", "community_centre=2", "--exact-time-limit", "20", "--out", out]
    if case == "andorra":
        return ["--quiet", "plan", "--network", str(SHARED / "osm" / "andorra.osm.pbf"),
                "--facilities", str(GOLDEN / "andorra" / "register.csv"),
                "--total-population", "77000", "--suggest", "township_centre=2",
                "--suggest", "community_centre=2", "--max-candidates", "800",
                "--exact-time-limit", "20", "--out", out]
    if case == "nanjing":
        return ["--quiet", "plan", "--network", str(SHARED / "china" / "nanjing_xuanwu.osm"),
                "--facilities", str(GOLDEN / "nanjing" / "register.csv"),
                "--population", str(GOLDEN / "nanjing" / "population.tif"),
                "--suggest", "community_centre=2", "--exact-time-limit", "20", "--out", out]
    raise KeyError(case)


CASES = ("demo", "demo_helsinki", "monaco", "andorra", "nanjing")


def run(case: str, work: Path, main) -> Path:
    """Run a case with ``main`` (the CLI entry point) and ``SOURCE_DATE_EPOCH`` fixed."""
    work.mkdir(parents=True, exist_ok=True)
    old = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = EPOCH
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            rc = main(argv(case, work))
    finally:
        if old is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = old
    if rc != 0:
        raise RuntimeError(f"golden case {case} exited {rc}: {err.getvalue()[-2000:]}")
    return work / "out"


def summary_digest(summary: dict) -> dict:
    """The parts of summary.json that carry results (no paths, times or versions)."""
    keep = ("figures", "sensitivity", "fidelity", "sites", "population", "facilities")
    out = {k: summary.get(k) for k in keep}
    pop = dict(out["population"] or {})
    src = dict(pop.get("source") or {})
    src.pop("file", None)
    pop["source"] = src
    out["population"] = pop
    out["parameters"] = {k: v for k, v in (summary.get("parameters") or {}).items()}
    return json.loads(json.dumps(out, sort_keys=True, default=str))


def expected_dir(case: str) -> Path:
    return GOLDEN / case / "expected"


def record(case: str, out: Path) -> None:
    """Write the golden files of a case from a run's output folder."""
    d = expected_dir(case)
    d.mkdir(parents=True, exist_ok=True)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    (d / "summary.json").write_text(json.dumps(summary_digest(summary), ensure_ascii=False, indent=1,
                                               sort_keys=True) + "\n", encoding="utf-8")
    for name in TABLES:
        src = out / name
        if src.exists():
            (d / name).write_bytes(src.read_bytes())
        elif (d / name).exists():
            (d / name).unlink()


def close(a, b, rel: float = 1e-9, abs_: float = 1e-9) -> bool:
    """Equal JSON values, floats to a relative tolerance."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k], rel, abs_) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(close(x, y, rel, abs_) for x, y in zip(a, b, strict=True))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)
    return a == b


def diff_json(a, b, path: str = "") -> list[str]:
    """Paths where two JSON values differ (for readable failures)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = [f"{path}.{k}: only in {'expected' if k in a else 'got'}" for k in a.keys() ^ b.keys()]
        for k in sorted(a.keys() & b.keys()):
            out += diff_json(a[k], b[k], f"{path}.{k}")
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} items expected, {len(b)} got"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in diff_json(x, y, f"{path}[{i}]")]
    return [] if close(a, b) else [f"{path}: expected {a!r}, got {b!r}"]
