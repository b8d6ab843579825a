"""Raster bands as people come in them: the bands of a population raster chosen explicitly, and
elderly rasters as WorldPop publishes them (age-sex groups as several files or one file of
several bands), summed.

栅格波段：多波段人口栅格必须指定波段（--band/--bands）；老年人口栅格可为多个文件或多波段，逐项相加。
Method notes: ``docs/population.md`` §2.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from carecover.errors import InputError

__all__ = ["band_list", "choose_bands", "describe_bands", "parse_bands", "read_band_sum"]


def describe_bands(src) -> list[str]:
    """``"n: description"`` of every band (``"n"`` alone where the file gives no description)."""
    desc = list(src.descriptions or [None] * src.count)
    return [f"{i}: {d}" if d else str(i) for i, d in enumerate(desc, start=1)]


def parse_bands(text: str | Sequence[int] | None, field: str = "--bands") -> tuple[int, ...] | None:
    """Bands as written (``"3"``, ``"14,15,16"``, ``"14-16"`` or a list of numbers), or ``None``.

    Raises
    ------
    InputError
        Not whole numbers ≥ 1 (the option named).
    """
    if text is None:
        return None
    if not isinstance(text, str):
        items = [str(x) for x in text]
    else:
        items = [t.strip() for t in text.replace(";", ",").split(",") if t.strip()]
    out: list[int] = []
    try:
        for item in items:
            if "-" in item:
                a, b = (int(x) for x in item.split("-", 1))
                out += list(range(a, b + 1))
            else:
                out.append(int(item))
    except ValueError:
        raise InputError(f"波段须为正整数 / bands must be whole numbers, got {text!r}", field=field,
                         expected="e.g. 3, or 14,15,16, or 14-16") from None
    if not out or min(out) < 1:
        raise InputError(f"波段须为正整数 / bands must be whole numbers >= 1, got {text!r}", field=field,
                         expected="e.g. 3, or 14,15,16, or 14-16")
    return tuple(dict.fromkeys(out))


def choose_bands(src, path: Path, bands: Sequence[int] | None, *, role: str = "population",
                 option: str = "--band/--bands") -> tuple[int, ...]:
    """The bands to read: as asked (each must exist); a single-band file's band 1; a multi-band
    file without a choice is refused (a 10-band age raster read as band 1 loses most people).

    Raises
    ------
    InputError
        A band that does not exist, or several bands and no choice (count and descriptions named).
    """
    if bands:
        bad = [b for b in bands if not 1 <= b <= src.count]
        if bad:
            raise InputError(f"波段不存在 / band {bad[0]} not in raster ({src.count} band(s))", file=path,
                             field=f"band {bad[0]}", expected=f"1..{src.count}")
        return tuple(bands)
    if src.count == 1:
        return (1,)
    if role == "elderly":
        return tuple(range(1, src.count + 1))
    raise InputError(
        f"多波段栅格须指定波段 / the raster has {src.count} bands; choose with {option} which hold the "
        f"{role} (bands are summed): " + "; ".join(describe_bands(src)),
        file=path, field="band", expected=f"{option} N or N,M,… (1..{src.count})")


def band_list(bands: Sequence[int]) -> str:
    """``"1"`` or ``"14, 15, 16"``."""
    return ", ".join(str(b) for b in bands)


def read_band_sum(src, bands: Sequence[int], window=None) -> tuple[np.ndarray, np.ndarray]:
    """(sum of the bands, valid) over ``window``: a pixel is valid where every band holds a finite
    value other than the nodata value."""
    total = None
    valid = None
    nodata = src.nodata
    for b in bands:
        data = src.read(int(b), window=window).astype("float64")
        ok = np.isfinite(data)
        if nodata is not None:
            ok &= data != nodata
        total = np.where(ok, data, 0.0) if total is None else total + np.where(ok, data, 0.0)
        valid = ok if valid is None else valid & ok
    return total, valid
