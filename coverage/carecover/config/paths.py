"""Where city configs are found: ``$CARECOVER_DATA_DIR/<city>/config.toml``, then the repository's
``data/<city>/config.toml``."""

from __future__ import annotations

import os
from pathlib import Path

from carecover.errors import InputError

#: Where shipped city configs live: the repository's top-level ``data/`` folder, beside the
#: source root ``coverage/`` (holds for a source checkout and an editable install; this file is
#: ``coverage/carecover/config/paths.py``). ``CARECOVER_DATA_DIR`` adds another root.
DATA_DIR: Path = Path(__file__).resolve().parents[3] / "data"


def _data_roots() -> list[Path]:
    """Folders searched for ``<city>/config.toml``, in order."""
    roots = []
    env = os.environ.get("CARECOVER_DATA_DIR")
    if env:
        roots.append(Path(env))
    roots.append(DATA_DIR)
    return roots


def available_cities() -> list[str]:
    """City keys that have a ``<root>/<city>/config.toml``.

    Returns
    -------
    list of str
        Sorted keys found under ``$CARECOVER_DATA_DIR`` and :data:`DATA_DIR`.
    """
    found = set()
    for root in _data_roots():
        if root.is_dir():
            found.update(p.parent.name for p in root.glob("*/config.toml"))
    return sorted(found)


def find_city_config(city: str) -> Path:
    """Path of the shipped config for ``city`` (e.g. ``"hohhot"``), or of a given TOML file.

    Parameters
    ----------
    city
        A city key (case-insensitive) or the path of an existing ``.toml`` file.

    Returns
    -------
    Path
        ``$CARECOVER_DATA_DIR/<city>/config.toml`` if it exists, else ``data/<city>/config.toml``
        of the repository.

    Raises
    ------
    InputError
        No config for ``city``; the message lists the available cities.
    """
    p = Path(city)
    if p.suffix == ".toml" and p.is_file():
        return p
    key = city.strip().lower()
    for root in _data_roots():
        candidate = root / key / "config.toml"
        if candidate.is_file():
            return candidate
    avail = available_cities()
    raise InputError(
        f"no config for city '{city}' / 找不到城市配置; available / 可用: "
        f"{', '.join(avail) if avail else 'none'}",
        field="city", expected="one of " + ", ".join(avail) if avail else None)
