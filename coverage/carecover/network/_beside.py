"""Entries kept beside a cached network: results that depend only on the network (and a few
inputs of their own), read back on the next run instead of computed again.

An entry lives in ``<cache dir>/networks/<folder>/<network entry>-<key>.npz``; its key is the
SHA-256 of the network's cache entry name (file content, profile, clip), the source of the
modules whose code decides the result, and the caller's own parts. Entries are data only
(:mod:`carecover.datastore`: no pickles), written atomically; an unreadable or foreign entry is
computed again. A network built without the cache (``--no-cache``, networks made by code) has no
entry, and the result is always computed afresh.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

from carecover import datastore

if TYPE_CHECKING:
    from carecover.network.streets import StreetNetwork

T = TypeVar("T")


def entry_file(net: StreetNetwork, folder: str, modules: Iterable[ModuleType],
               parts: Iterable[str | bytes]) -> tuple[Path, str] | None:
    """Where a result for ``net`` is kept, and its key (``None`` when ``net`` has no cache entry).

    Parameters
    ----------
    net
        The network; only one read from or written to the network cache has an entry.
    folder
        The kind of result (a folder beside the network entries).
    modules
        The modules whose source decides the result (a change of code is a new key).
    parts
        The result's other inputs, as text or bytes.
    """
    entry = net.source.get("cache") if isinstance(net.source, dict) else None
    if not entry:
        return None
    h = hashlib.sha256()
    for part in (Path(entry).name, *(Path(m.__file__).read_bytes() for m in modules), *parts):
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\0")
    key = h.hexdigest()
    return Path(entry).parent / folder / f"{Path(entry).stem}-{key[:24]}.npz", key


def read_or_compute(where: tuple[Path, str] | None, compute: Callable[[], T],
                    usable: Callable[[Any], bool]) -> T:
    """The entry at ``where`` when it is there and ``usable``, else ``compute()``, then kept there.

    Parameters
    ----------
    where
        :func:`entry_file`'s answer.
    compute
        Makes the result.
    usable
        Whether a read value is the result asked for (its type and size).
    """
    if where is not None and where[0].exists():
        try:
            found = datastore.load(where[0], where[1])
        except (OSError, ValueError):  # unreadable or another key's entry: computed again
            found = None
        if usable(found):
            return found
    out = compute()
    if where is not None:
        try:
            datastore.save(where[0], out, where[1])
        except OSError:  # a read-only cache folder: the run goes on without the entry
            pass
    return out
