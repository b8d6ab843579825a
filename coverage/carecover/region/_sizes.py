"""The sizes Dask is told for a region run's results (``dask.sizeof``).

Dask measures every result it keeps with :func:`dask.sizeof.sizeof`, which falls back to
``sys.getsizeof`` for objects it does not know: a dataclass holding megabytes of frames is
then "56 bytes", and the scheduler moves it between workers as if it were free (work
stealing, where a task runs). Registering the region's result types makes their sizes the
sum of their fields' sizes, so the scheduler keeps a merge step beside its data.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

__all__ = ["register", "dataclass_size"]

_DONE = False


def dataclass_size(obj: Any) -> int:
    """Bytes of a dataclass: the sum of :func:`dask.sizeof.sizeof` over its fields."""
    from dask.sizeof import sizeof

    return int(sum(sizeof(getattr(obj, f.name)) for f in fields(obj)))


def register() -> None:
    """Register the region's result types with ``dask.sizeof`` (once per process; nothing when
    Dask is not installed)."""
    global _DONE
    if _DONE:
        return
    try:
        from dask.sizeof import sizeof
    except ImportError:  # the region extra is missing: no cluster, no sizes to tell
        return
    from carecover.inputs.demand import Demand
    from carecover.region.merge import AreaParts, AreaResult, AreaView
    from carecover.region.task import CandidateReach, TaskResult

    for cls in (TaskResult, CandidateReach, AreaParts, AreaView, AreaResult, Demand):
        sizeof.register(cls)(dataclass_size)
    _DONE = True
