"""The stage cache: a rerun reuses the results of stages whose inputs and parameters are unchanged.

Each cached stage result is stored under a key: the SHA-256 of the stage's name, the package's
source code, the run parameters that can affect it and the keys (or content hashes) of its
inputs — input files by content, networks by their file, profile and clip, results of other
cached stages by their own key. Changing only what lies downstream (the ``--suggest`` counts,
solver limits, claims, map options, the output folder) changes no upstream key, so those
stages are read back instead of computed.

Results are stored as data only (:mod:`carecover.datastore`: a JSON tree and arrays in an
``.npz`` read without pickles; nothing in the file can name code to run) in
``<cache dir>/stages/<stage>/<key>.npz``, written atomically (a temporary file renamed into
place) in a private folder (0700), so a crash never leaves half a file under a key, and any
file may be deleted at any time (the stage is then computed again). Each file carries the key
it was written under: a file that cannot be read, or that holds another key's result, is
recomputed with one line saying so.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import fields
from functools import lru_cache
from pathlib import Path
from typing import Any, Generic, TypeVar

import shapely

from carecover import datastore, notices, settings, timing
from carecover.network import StreetNetwork
from carecover.params import RunParams
from carecover.plan import background
from carecover.plan.area import Boundaries, StudyArea
from carecover.utils import file_sha256, log

T = TypeVar("T")

#: Bump when the stored layout of stage results changes in a way the code hash misses.
STAGE_CACHE_VERSION = 3

#: Parameters that only stages downstream of the cached ones read.
DOWNSTREAM = frozenset({"out", "lang", "title", "command", "inline_assets", "gaode_map", "cache",
                        "map_min_gap_share", "workers",
                        "suggest", "exact_time_limit_s", "target_share", "min_spacing_m",
                        "warnings", "crs_explicit"})
#: Parameters whose value is a file: hashed by content, not by name.
FILES = frozenset({"network", "boundary", "population", "elderly_raster", "candidates"})


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """SHA-256 of the package's source files (a code change invalidates every stage)."""
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for p in sorted(root.rglob("*.py")):
        h.update(str(p.relative_to(root)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def _file_digest(path: Any) -> str | None:
    if path is None:
        return None
    return file_sha256(path) if Path(path).is_file() else f"missing:{path}"


def params_fingerprint(params: RunParams) -> str:
    """Hash of every parameter that can affect a cached stage (files by content)."""
    names = [f.name for f in fields(params) if f.name not in DOWNSTREAM and f.name not in FILES]
    files = {n: _file_digest(getattr(params, n)) for n in sorted(FILES)}
    files["facilities"] = [_file_digest(p) for p in params.facilities]
    files["units"] = [(k, _file_digest(p)) for k, p in params.units]
    files["elderly_rasters"] = [_file_digest(p) for p in params.elderly_rasters]
    siting_tiers = sorted(k for k, n in params.suggest.items() if n > 0)
    extra = json.dumps({"files": files, "siting_tiers": siting_tiers}, sort_keys=True)
    return hashlib.sha256((params.fingerprint(*names) + extra).encode()).hexdigest()


def network_fingerprint(net: StreetNetwork) -> str:
    """A network by its file's content, profile and clip (what the network cache keys on)."""
    src = net.source
    text = json.dumps({"sha256": src.get("sha256"), "clip": src.get("clip"), "profile": net.profile,
                       "nodes": net.n_nodes, "segments": net.n_segments}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class StageCache:
    """Runs stages, reading results back from disk when their key was computed before.

    Parameters
    ----------
    root
        Folder of the cache (``None``: no caching, every stage is computed).
    params_key
        :func:`params_fingerprint` of the run.
    """

    def __init__(self, root: Path | None, params_key: str) -> None:
        self.root = root
        self.params_key = params_key
        self._keys: dict[int, str] = {}
        self.hits: list[str] = []

    @classmethod
    def of(cls, params: RunParams) -> StageCache:
        """The cache a run uses: off with ``--no-cache``, else in the cache folder."""
        if params.cache is False:
            return cls(None, "")
        base = Path(params.cache) if isinstance(params.cache, (str, Path)) else settings.cache_dir
        return cls(base / "stages", params_fingerprint(params))

    def fingerprint(self, value: Any) -> str:
        """The key part of one stage argument."""
        if id(value) in self._keys:
            return self._keys[id(value)]
        if isinstance(value, RunParams):
            return self.params_key
        if isinstance(value, StreetNetwork):
            return network_fingerprint(value)
        if isinstance(value, Boundaries):
            return value.fingerprint
        if isinstance(value, StudyArea):
            return (value.boundaries.fingerprint + shapely.to_wkb(value.polygon, hex=True)
                    + shapely.to_wkb(value.demand_polygon, hex=True))
        if isinstance(value, Mapping):
            return json.dumps({str(k): self.fingerprint(v) for k, v in sorted(value.items())})
        raise TypeError(f"no cache fingerprint for {type(value).__name__}")  # a stage input not keyed

    def key(self, name: str, args: tuple) -> str:
        parts = [str(STAGE_CACHE_VERSION), code_fingerprint(), name, *[self.fingerprint(a) for a in args]]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()

    def run(self, name: str, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)``, or its result from the cache.

        The warnings a stage raised are stored with its result and raised again when it is
        read back, so a cached rerun says everything the first run said.
        """
        if self.root is None:
            return fn(*args)
        key = self.key(name, args)
        path = self.root / name / f"{key}.npz"
        stored = self._load(path, key, name)
        if stored is None:
            with notices.collect(echo=False) as found:
                value = fn(*args)
            self._save(path, (value, found), key, name)
        else:
            value, found = stored
            self.hits.append(name)
            log(f"  {name}: 缓存 / from the stage cache")
        notices.replay(found)
        self._keys[id(value)] = key
        return value

    def start(self, workers: int, name: str, fn: Callable[..., T], *args: Any) -> CachedJob[T]:
        """:meth:`run` in a worker process (:func:`carecover.plan.background.start`); ask the
        returned job's ``result()`` for the value, recorded here as if run here."""
        return CachedJob(self, background.start(workers, self._run_reporting, name, fn, *args))

    def _run_reporting(self, name: str, fn: Callable[..., T], *args: Any) -> tuple[T, str, bool, str]:
        hits = len(self.hits)
        with timing.step(name) as mark:  # timed where it runs (a worker sends its timings back)
            value = self.run(name, fn, *args)
            mark.cached = len(self.hits) > hits
        return value, self._keys.get(id(value), ""), mark.cached, name

    @staticmethod
    def _load(path: Path, key: str, name: str) -> Any:
        if not path.is_file():
            return None
        try:
            stored = datastore.load(path, key)
        except (OSError, datastore.EntryError) as exc:
            log(f"  {name}: 缓存条目无效，重新计算 / cache entry not used, recomputed ({exc}): {path}")
            return None
        if isinstance(stored, tuple) and len(stored) == 2 and isinstance(stored[1], list):
            return stored
        log(f"  {name}: 缓存条目无效，重新计算 / cache entry not used, recomputed: {path}")
        return None

    @staticmethod
    def _save(path: Path, value: Any, key: str, name: str) -> None:
        try:
            datastore.save(path, value, key)
        except (OSError, TypeError) as exc:  # a full or read-only cache never fails the run
            log(f"  {name}: 未写入缓存 / stage cache not written ({exc})")


class CachedJob(Generic[T]):
    """A stage run by :meth:`StageCache.start`."""

    def __init__(self, cache: StageCache, job: background.Job) -> None:
        self._cache, self._job = cache, job

    def result(self) -> T:
        """The stage's value; when a worker ran it, its cache hit and key are recorded here."""
        value, key, hit, name = self._job.result()
        if self._job.forked:
            if hit:
                self._cache.hits.append(name)
            if key:
                self._cache._keys[id(value)] = key
        return value
