"""A data-only file format for cached values: nothing in a file can name code to run.

缓存文件只存数据：文件中的任何内容都不能指定要运行的代码。

A value is stored as one ``.npz`` file (read with ``allow_pickle=False``) holding a JSON tree
that describes the value and the arrays it refers to. The tree knows these forms only:

- ``None``, ``bool``, ``int``, ``str``, ``float`` (NaN and infinities tagged), ``bytes``;
- ``list``, ``tuple``, ``set``, ``frozenset``, ``dict`` (keys of any of these forms), ``Path``;
- NumPy arrays and scalars (object arrays element by element), shapely geometries (WKB),
  SciPy sparse matrices and arrays (their index and data arrays), pyproj CRS (WKT);
- pandas ``DataFrame``/``Series``/``Index`` column by column, GeoPandas ``GeoDataFrame``/
  ``GeoSeries`` with their geometry as WKB and their CRS;
- dataclasses, enums and named tuples defined in carecover's own modules (the allow-list:
  a name outside ``carecover.`` or naming anything else is refused). A dataclass is rebuilt
  field by field without calling its ``__init__``.

Each file also carries the key it was written under (the hash of the inputs and parameters
that produced it): :func:`load` refuses a file whose key is not the one asked for, so an
entry copied over another key is recomputed, never used.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import io
import json
import math
import os
import re
from collections.abc import Callable
from pathlib import Path, PurePath
from typing import IO, Any

import numpy as np

from carecover.utils import atomic_write

__all__ = ["FORMAT", "EntryError", "dumps", "loads", "save", "load", "private_dir"]

#: Format tag stored in every file (bump when the tree's forms change).
FORMAT = "carecover-datastore-1"

_NAME = re.compile(r"^(carecover(?:\.[A-Za-z_][A-Za-z0-9_]*)+):([A-Za-z_][A-Za-z0-9_.]*)$")
_SPARSE = frozenset({"csr_matrix", "csc_matrix", "coo_matrix", "csr_array", "csc_array", "coo_array"})


class EntryError(ValueError):
    """A stored entry that cannot be used (damaged, refused type, or another key's content)."""


# ----------------------------------------------------------------------------- encoding

class _Writer:
    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def array(self, a: np.ndarray) -> str:
        name = f"a{len(self.arrays)}"
        self.arrays[name] = a
        return name

    def enc(self, v: Any) -> Any:  # noqa: PLR0911, PLR0912 - one branch per form
        if v is None or isinstance(v, (bool, str)) or (isinstance(v, int) and type(v) is int):
            return v
        if type(v) is float:
            return v if math.isfinite(v) else {"t": "float", "v": repr(v)}
        if isinstance(v, (bytes, bytearray)):
            return {"t": "bytes", "a": self.array(np.frombuffer(bytes(v), np.uint8))}
        if isinstance(v, np.generic):
            return self.ndarray(np.asarray(v), scalar=True)
        if isinstance(v, np.ndarray):
            return self.ndarray(v)
        if isinstance(v, enum.Enum):
            return {"t": "enum", "c": _class_name(type(v)), "v": self.enc(v.value)}
        if dataclasses.is_dataclass(v) and not isinstance(v, type):
            state = vars(v) if hasattr(v, "__dict__") else {f.name: getattr(v, f.name) for f in dataclasses.fields(v)}
            return {"t": "dc", "c": _class_name(type(v)), "f": {k: self.enc(x) for k, x in state.items()}}
        if isinstance(v, tuple) and hasattr(type(v), "_fields"):
            return {"t": "nt", "c": _class_name(type(v)), "v": [self.enc(x) for x in v]}
        if type(v) in (list, tuple, set, frozenset):
            return {"t": type(v).__name__, "v": [self.enc(x) for x in v]}
        if type(v) is dict:
            return {"t": "dict", "k": [self.enc(k) for k in v], "v": [self.enc(x) for x in v.values()]}
        if isinstance(v, PurePath):
            return {"t": "path", "v": str(v)}
        return self.library(v)

    def library(self, v: Any) -> Any:
        from carecover._datastore_frames import encode

        kind = type(v).__module__.split(".")[0]
        if kind == "shapely":
            import shapely

            if isinstance(v, shapely.Geometry):
                return {"t": "geom", "a": self.array(np.frombuffer(shapely.to_wkb(v), np.uint8))}
        if kind == "pyproj" and type(v).__name__ == "CRS":
            return {"t": "crs", "v": v.to_wkt()}
        if kind == "scipy" and type(v).__name__ in _SPARSE:
            return self.sparse(v)
        if kind in ("pandas", "geopandas"):
            return encode(self, v)
        raise TypeError(f"cannot store a {type(v).__module__}.{type(v).__qualname__} / 无法缓存该类型")

    def ndarray(self, a: np.ndarray, scalar: bool = False) -> Any:
        if a.dtype.hasobject:
            return {"t": "objarr", "shape": list(a.shape), "v": [self.enc(x) for x in a.ravel().tolist()]}
        if a.dtype.fields is not None:
            raise TypeError("structured arrays are not stored / 不缓存结构化数组")
        return {"t": "scalar" if scalar else "nd", "a": self.array(a if a.flags.c_contiguous else a.copy(order="C"))}

    def sparse(self, m: Any) -> Any:
        name = type(m).__name__
        if name.startswith("coo"):
            parts = {"data": m.data, "row": m.row, "col": m.col}
        else:
            parts = {"data": m.data, "indices": m.indices, "indptr": m.indptr}
        return {"t": "sparse", "c": name, "shape": list(m.shape),
                "p": {k: self.array(np.asarray(x)) for k, x in parts.items()}}


def _class_name(cls: type) -> str:
    name = f"{cls.__module__}:{cls.__qualname__}"
    if not _NAME.match(name):
        raise TypeError(f"only carecover's own data classes are stored, not {name} / 仅缓存 carecover 的数据类")
    return name


# ----------------------------------------------------------------------------- decoding

def _allowed_class(name: str) -> type:
    """The carecover data class ``module:QualName``; anything else is refused."""
    m = _NAME.match(str(name))
    if not m:
        raise EntryError(f"refused type name {name!r} / 拒绝的类型名")
    try:
        obj: Any = importlib.import_module(m.group(1))
        for part in m.group(2).split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise EntryError(f"unknown type {name!r} / 未知类型") from exc
    ok = isinstance(obj, type) and obj.__module__ == m.group(1) and (
        dataclasses.is_dataclass(obj) or issubclass(obj, enum.Enum)
        or (issubclass(obj, tuple) and hasattr(obj, "_fields")))
    if not ok:
        raise EntryError(f"refused type {name!r}: not a carecover data class / 不是数据类")
    return obj


class _Reader:
    def __init__(self, arrays: Any) -> None:
        self.arrays = arrays

    def array(self, name: Any) -> np.ndarray:
        if not isinstance(name, str) or name not in self.arrays:
            raise EntryError(f"missing array {name!r} / 缺少数组")
        return self.arrays[name]

    def dec(self, n: Any) -> Any:  # noqa: PLR0911, PLR0912 - one branch per form
        if n is None or isinstance(n, (bool, int, float, str)):
            return n
        if not isinstance(n, dict):
            raise EntryError("malformed entry / 条目格式错误")
        t = n.get("t")
        if t == "float":
            return float(n["v"])
        if t == "bytes":
            return self.array(n["a"]).tobytes()
        if t == "nd":
            return self.array(n["a"])
        if t == "scalar":
            return self.array(n["a"])[()]
        if t == "objarr":
            out = np.empty(len(n["v"]), dtype=object)
            out[:] = [self.dec(x) for x in n["v"]] if n["v"] else []
            return out.reshape(n["shape"])
        if t in ("list", "tuple", "set", "frozenset"):
            return {"list": list, "tuple": tuple, "set": set, "frozenset": frozenset}[t](self.dec(x) for x in n["v"])
        if t == "dict":
            return dict(zip([self.dec(k) for k in n["k"]], [self.dec(x) for x in n["v"]], strict=True))
        if t == "path":
            return Path(n["v"])
        if t in ("dc", "enum", "nt"):
            return self.instance(t, n)
        return self.library(t, n)

    def instance(self, t: str, n: dict) -> Any:
        cls = _allowed_class(n.get("c"))
        if t == "enum":
            return cls(self.dec(n["v"]))
        if t == "nt":
            return cls._make(self.dec(x) for x in n["v"])
        if not dataclasses.is_dataclass(cls):
            raise EntryError(f"{n.get('c')!r} is not a dataclass / 不是数据类")
        obj = object.__new__(cls)
        for k, x in n["f"].items():
            if not isinstance(k, str) or not k.isidentifier() or k.startswith("__"):
                raise EntryError(f"refused field name {k!r} / 拒绝的字段名")
            object.__setattr__(obj, k, self.dec(x))
        return obj

    def library(self, t: Any, n: dict) -> Any:
        from carecover._datastore_frames import TAGS, decode

        if t == "geom":
            import shapely

            return shapely.from_wkb(self.array(n["a"]).tobytes())
        if t == "crs":
            from pyproj import CRS

            return CRS.from_wkt(str(n["v"]))
        if t == "sparse":
            import scipy.sparse as sp

            if n.get("c") not in _SPARSE:
                raise EntryError(f"refused sparse type {n.get('c')!r} / 拒绝的稀疏矩阵类型")
            p = {k: self.array(a) for k, a in n["p"].items()}
            cls = getattr(sp, n["c"])
            shape = tuple(int(s) for s in n["shape"])
            if n["c"].startswith("coo"):
                return cls((p["data"], (p["row"], p["col"])), shape=shape)
            return cls((p["data"], p["indices"], p["indptr"]), shape=shape)
        if t in TAGS:
            return decode(self, n)
        raise EntryError(f"unknown entry form {t!r} / 未知的条目形式")


# ----------------------------------------------------------------------------- files

def dumps(value: Any, key: str) -> bytes:
    """The bytes of an ``.npz`` file holding ``value`` under ``key``.

    Raises
    ------
    TypeError
        When the value holds something that is not stored (the caller then does not cache it).
    """
    buf = io.BytesIO()
    _encoded(value, key)(buf)
    return buf.getvalue()


def _encoded(value: Any, key: str) -> Callable[[IO[bytes]], None]:
    """Encode ``value`` now (a ``TypeError`` is raised before anything is written) and return
    the writer of its ``.npz`` into a binary file: the arrays are streamed into it, not first
    copied into bytes in memory (a stage result of hundreds of MB)."""
    w = _Writer()
    tree = np.array(json.dumps({"format": FORMAT, "key": key, "value": w.enc(value)}, ensure_ascii=False,
                               allow_nan=False))
    return lambda fh: np.savez(fh, __tree__=tree, **w.arrays)


def loads(data: Any, key: str) -> Any:
    """The value of an entry written by :func:`dumps` under ``key``.

    Parameters
    ----------
    data
        A file name or a binary file object.
    key
        The key asked for.

    Raises
    ------
    EntryError
        Damaged or not this format, a refused type, or written under another key.
    """
    try:
        with np.load(data, allow_pickle=False) as z:
            if not hasattr(z, "files") or "__tree__" not in z.files:
                raise EntryError("not a carecover cache entry / 不是缓存条目")
            tree = json.loads(str(z["__tree__"]))
            arrays = {k: z[k] for k in z.files if k != "__tree__"}
    except EntryError:
        raise
    except Exception as exc:  # noqa: BLE001 - zip, format and pickle refusals of several types
        raise EntryError(f"damaged entry ({type(exc).__name__}) / 条目已损坏") from exc
    if not isinstance(tree, dict) or tree.get("format") != FORMAT:
        raise EntryError("another cache format / 缓存格式不同")
    if tree.get("key") != key:
        raise EntryError("entry belongs to another key / 条目内容属于其他键")
    try:
        return _Reader(arrays).dec(tree.get("value"))
    except EntryError:
        raise
    except Exception as exc:  # noqa: BLE001 - a malformed tree of any shape
        raise EntryError(f"malformed entry ({type(exc).__name__}) / 条目格式错误") from exc


def private_dir(path: str | Path) -> Path:
    """Create ``path`` and its missing parents private to the user (0700); existing folders are
    left as they are."""
    path = Path(path)
    missing = []
    p = path
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        try:
            d.mkdir(mode=0o700)
        except FileExistsError:
            continue
        os.chmod(d, 0o700)
    return path


def save(path: str | Path, value: Any, key: str) -> None:
    """Write ``value`` under ``key`` to ``path`` atomically, in a private folder.

    Raises
    ------
    TypeError
        The value holds something that is not stored.
    OSError
        The file cannot be written.
    """
    write = _encoded(value, key)
    path = Path(path)
    private_dir(path.parent)
    with atomic_write(path, "wb") as fh:
        write(fh)


def load(path: str | Path, key: str) -> Any:
    """The value stored at ``path`` under ``key`` (:class:`EntryError` otherwise)."""
    if not Path(path).is_file():
        raise EntryError("not a regular file / 不是普通文件")
    with open(path, "rb") as fh:
        return loads(fh, key)
