"""carecover: 15-minute elderly-care service coverage on street networks.

一刻钟养老服务圈覆盖分析：街道路网出行时间、人口覆盖、空白区与选址。

Data flows one way::

    network -> snap/engine (travel times) -> coverage -> gaps/sites -> maps/report

From Python::

    import carecover
    plan = carecover.run_plan("city.osm.pbf", "register.csv", total_population=20000,
                              suggest={"street_centre": 8})
    plan.figures, plan.sites, plan.map(), plan.publish("out")
    carecover.read_plan("out")

The import package is ``carecover`` (source root ``coverage/``, so coverage.py works beside it);
coverage.py and pytest-cov install beside it. ``import carecover`` loads nothing heavy: the
front door (:mod:`carecover.api`) is imported on first use.
"""

from typing import Any

__version__ = "0.1.0"

__all__ = ["Plan", "RunParams", "__version__", "read_plan", "run_plan"]

#: Names of the front door and the modules they come from (imported when first asked for).
_LAZY = {"run_plan": "carecover.api", "read_plan": "carecover.api", "Plan": "carecover.plan.result",
         "RunParams": "carecover.params"}


#: Modules a notebook reaches as attributes (``carecover.logs.console()``), imported on first use.
_MODULES = ("api", "logs", "timing", "records", "summary_file")


def __getattr__(name: str) -> Any:
    """``carecover.run_plan`` … imported on first use, so ``import carecover`` stays cheap."""
    import importlib

    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name in _MODULES:
        return importlib.import_module(f"carecover.{name}")
    raise AttributeError(f"module 'carecover' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
