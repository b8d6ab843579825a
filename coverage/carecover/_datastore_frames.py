"""Tables for :mod:`carecover.datastore`: pandas and GeoPandas values column by column.

A column is stored as a NumPy array when its dtype is a plain NumPy one, as WKB bytes with
offsets (and its CRS as WKT) when it holds geometries, as codes and categories when it is
categorical, and element by element (through the data tree) with its dtype's name otherwise.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Tree tags this module reads.
TAGS = frozenset({"df", "gdf", "series", "gs", "index", "range", "pdna", "nat"})


def encode(w: Any, v: Any) -> dict:
    """The tree node of a pandas or GeoPandas value (``w``: the datastore's writer)."""
    import geopandas as gpd
    import pandas as pd

    if v is pd.NA:
        return {"t": "pdna"}
    if v is pd.NaT:
        return {"t": "nat"}
    if isinstance(v, pd.Index):
        return _index(w, v)
    if isinstance(v, pd.DataFrame):
        if isinstance(v.columns, pd.MultiIndex):
            raise TypeError("a table with grouped columns is not stored / 不缓存多级列表")
        node = {"t": "gdf" if isinstance(v, gpd.GeoDataFrame) else "df", "index": _index(w, v.index),
                "cols": _index(w, v.columns), "data": [_column(w, v.iloc[:, i]) for i in range(v.shape[1])],
                "attrs": w.enc(dict(v.attrs))}
        if node["t"] == "gdf":
            name = getattr(v, "active_geometry_name", None)
            node["geometry"] = name if name in v.columns else None
            node["crs"] = None if v.crs is None else v.crs.to_wkt()
        return node
    if isinstance(v, pd.Series):
        return {"t": "gs" if isinstance(v, gpd.GeoSeries) else "series", "index": _index(w, v.index),
                "name": w.enc(v.name), "data": _column(w, v), "attrs": w.enc(dict(v.attrs))}
    raise TypeError(f"cannot store a {type(v).__module__}.{type(v).__qualname__} / 无法缓存该类型")


def _index(w: Any, idx: Any) -> dict:
    import pandas as pd

    if isinstance(idx, pd.MultiIndex):
        raise TypeError("a grouped index is not stored / 不缓存多级索引")
    if isinstance(idx, pd.RangeIndex):
        return {"t": "range", "start": idx.start, "stop": idx.stop, "step": idx.step, "name": w.enc(idx.name)}
    return {"t": "index", "name": w.enc(idx.name), "data": _column(w, idx)}


def _column(w: Any, s: Any) -> dict:
    import pandas as pd

    dtype = s.dtype
    if str(dtype) == "geometry":
        import shapely

        wkb = shapely.to_wkb(np.asarray(s, dtype=object))
        lengths = np.array([-1 if b is None else len(b) for b in wkb], np.int64)
        blob = np.frombuffer(b"".join(b for b in wkb if b is not None), np.uint8)
        crs = getattr(s.values, "crs", None)
        return {"k": "geo", "a": w.array(blob), "n": w.array(lengths), "crs": None if crs is None else crs.to_wkt()}
    if isinstance(dtype, pd.CategoricalDtype):
        return {"k": "cat", "codes": w.array(np.asarray(s.cat.codes if hasattr(s, "cat") else s.codes)),
                "cats": _index(w, dtype.categories), "ordered": bool(dtype.ordered)}
    if isinstance(dtype, np.dtype) and dtype.kind in "biufcmM":
        return {"k": "np", "a": w.array(np.array(s.to_numpy(), order="C", copy=None))}
    values = s.tolist()
    text = _text_column(w, values, str(dtype))
    return text if text is not None else {"k": "obj", "dtype": str(dtype), "v": [w.enc(x) for x in values]}


def _text_column(w: Any, values: list, dtype: str) -> dict | None:
    """A column of text with gaps (``None`` or NaN) as one fixed-width text array and two masks;
    ``None`` for any other column (or text NumPy would not keep: a trailing NUL)."""
    if not values:
        return None
    none = np.array([v is None for v in values], bool)
    nan = np.array([isinstance(v, float) and v != v for v in values], bool)
    if not all(isinstance(v, str) and not v.endswith("\x00") for v, a, b in zip(values, none, nan, strict=True)
               if not (a or b)):
        return None
    text = np.array(["" if a or b else v for v, a, b in zip(values, none, nan, strict=True)], dtype=str)
    return {"k": "text", "dtype": dtype, "a": w.array(text), "none": w.array(none), "nan": w.array(nan)}


def _values(r: Any, node: dict) -> Any:
    import pandas as pd

    k = node.get("k")
    if k == "np":
        return r.array(node["a"])
    if k == "geo":
        import geopandas as gpd
        import shapely

        blob, lengths = r.array(node["a"]).tobytes(), r.array(node["n"])
        ends = np.cumsum(np.maximum(lengths, 0))
        parts = [None if n < 0 else blob[e - n:e] for n, e in zip(lengths.tolist(), ends.tolist(), strict=True)]
        geoms = shapely.from_wkb(np.array(parts, dtype=object)) if parts else np.array([], dtype=object)
        return gpd.array.from_shapely(geoms, crs=node.get("crs"))
    if k == "cat":
        cats = _build_index(r, node["cats"])
        return pd.Categorical.from_codes(r.array(node["codes"]), categories=cats, ordered=bool(node["ordered"]))
    if k == "text":
        items = r.array(node["a"]).tolist()
        for i in np.flatnonzero(r.array(node["none"])).tolist():
            items[i] = None
        for i in np.flatnonzero(r.array(node["nan"])).tolist():
            items[i] = float("nan")
        return _typed(items, node["dtype"])
    if k == "obj":
        items = [r.dec(x) for x in node["v"]]
        return _typed(items, node["dtype"])
    raise ValueError(f"unknown column form {k!r}")


def _typed(items: list, dtype: str) -> Any:
    """Values of a column of ``dtype`` (by name) from Python objects."""
    import pandas as pd

    if dtype == "object":
        out = np.empty(len(items), dtype=object)
        out[:] = items
        return out
    return pd.array(items, dtype=pd.api.types.pandas_dtype(dtype))


def _build_index(r: Any, node: dict) -> Any:
    import pandas as pd

    if node.get("t") == "range":
        return pd.RangeIndex(int(node["start"]), int(node["stop"]), int(node["step"]), name=r.dec(node["name"]))
    if node.get("t") != "index":
        raise ValueError("malformed index")
    return pd.Index(_values(r, node["data"]), name=r.dec(node["name"]), dtype=_dtype(node["data"]))


def _dtype(node: dict) -> Any:
    """``object`` for a column stored element by element as objects (pandas would infer ``str``)."""
    return object if node.get("k") in ("obj", "text") and node.get("dtype") == "object" else None


def decode(r: Any, node: dict) -> Any:
    """The pandas or GeoPandas value of a tree node (``r``: the datastore's reader)."""
    import geopandas as gpd
    import pandas as pd

    t = node["t"]
    if t == "pdna":
        return pd.NA
    if t == "nat":
        return pd.NaT
    if t in ("range", "index"):
        return _build_index(r, node)
    index = _build_index(r, node["index"])
    if t in ("series", "gs"):
        cls = gpd.GeoSeries if t == "gs" else pd.Series
        out = cls(_values(r, node["data"]), index=index, name=r.dec(node["name"]), dtype=_dtype(node["data"]),
                  copy=False)
    else:
        data = {i: pd.Series(_values(r, d), index=index, dtype=_dtype(d), copy=False) for i, d in enumerate(node["data"])}
        out = pd.DataFrame(data, index=index)
        out.columns = _build_index(r, node["cols"])
        if t == "gdf":
            geometry = node.get("geometry")
            out = gpd.GeoDataFrame(out, geometry=geometry) if geometry is not None else gpd.GeoDataFrame(out)
            if out.crs is None and node.get("crs") is not None and geometry is not None:
                out = out.set_crs(node["crs"])
    out.attrs.update(r.dec(node["attrs"]))
    return out
