"""The staged plan: ``publish(compute(resolve(options)))`` (``run``).

Stages, each a plain function with typed inputs and outputs (frozen dataclasses), in the order
data flows: :mod:`~carecover.plan.resolve` (options → :class:`~carecover.params.RunParams`),
:mod:`~carecover.plan.area`, :mod:`~carecover.plan.networks`, :mod:`~carecover.plan.inputs`,
:mod:`~carecover.plan.travel`, :mod:`~carecover.plan.isochrones`,
:mod:`~carecover.plan.figures`, :mod:`~carecover.plan.gaps`, :mod:`~carecover.plan.siting`,
:mod:`~carecover.plan.claims`, :mod:`~carecover.plan.assemble`,
:mod:`~carecover.plan.publish`; :mod:`~carecover.plan.run` lists them (``compute`` → a
:class:`~carecover.plan.result.Plan`, ``publish`` → the output folder), each through the stage
runner (:mod:`~carecover.plan.runner`), and :mod:`~carecover.plan.cache` reuses the results of
unchanged stages.
"""

from carecover.plan.options import PlanOptions
from carecover.plan.resolve import resolve
from carecover.plan.result import Plan
from carecover.plan.run import compute, run

# ``carecover.plan.publish`` stays the publish stage's module; the function that publishes a
# computed plan is ``carecover.plan.run.publish`` (or ``Plan.publish``)
__all__ = ["Plan", "PlanOptions", "compute", "resolve", "run"]
