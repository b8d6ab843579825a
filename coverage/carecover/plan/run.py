"""``carecover plan`` as a list of stages: inputs → network → travel → analysis → siting → outputs.

:func:`compute` runs the stages into a :class:`~carecover.plan.result.Plan` held in memory;
:func:`publish` writes its output folder; ``carecover plan`` is ``publish(compute(resolve(options)))``
(:func:`run`). Every stage goes through one :class:`~carecover.plan.runner.StageRunner`, which
times it, logs it and reads the cached stages back when their inputs are unchanged.
"""

from __future__ import annotations

import time
from pathlib import Path

from carecover import notices
from carecover.network.streetlines import street_lines
from carecover.params import RunParams
from carecover.plan import (
    access,
    area,
    assemble,
    checks,
    claims,
    figures,
    gaps,
    inputs,
    isochrones,
    networks,
    siting,
    travel,
)
from carecover.plan.background import jobs
from carecover.plan.result import Plan
from carecover.plan.runner import StageRunner
from carecover.summary_file import SummaryFile
from carecover.utils import log


def compute(params: RunParams) -> Plan:
    """Run every stage of a plan and keep the results in memory (nothing is written but caches).

    Each stage is a plain function of typed inputs (``carecover.plan.<stage>``); the stages
    upstream of a changed parameter are read from the stage cache when their inputs and
    parameters are unchanged. Warnings (ours and the libraries') are collected for the summary;
    ours are logged (:mod:`carecover.logs`).

    Parameters
    ----------
    params
        The resolved parameters (:func:`carecover.plan.resolve.resolve`).

    Returns
    -------
    Plan
        Figures, tables, sites, prepared what-if states and stage timings.
    """
    t0 = time.perf_counter()
    run = StageRunner(params)
    # every warning of the run: shown once, written into the summary and the report
    with notices.collect() as found, jobs():
        # unusual values found when the parameters were resolved
        notices.replay(params.warnings)
        # the boundary, counties and unit boundaries, each read once
        bounds = run.run("boundaries", area.read_boundaries_of, params)
        # the walking network: always needed, and without a boundary it gives the study area
        walk = run.run("network walk", networks.load_mode, params, bounds, "walk")
        # the maps' light street layer, merged and simplified in a worker process meanwhile
        streets = run.start("street layer", street_lines, walk)
        # where facilities and residents are taken from
        study = run.run("study area", area.study_area, bounds, walk)
        # every register record with its status
        fac = run.run("facilities", inputs.read_facilities, params, study, walk)
        # the other networks that tiers with facilities or planned sites need
        nets = run.run("networks", networks.load_networks, params, bounds, walk, fac)
        # population as demand points with their elderly share
        demand = run.run("demand", inputs.read_demand, params, study, label="人口 / population …")
        # travel times of every tier
        trav = run.run("travel", travel.route, params, nets, fac, demand)
        # a tier with no usable facility is said at once (and refused with --strict)
        run.run("checks", checks.check, params, fac, trav)
        # isochrone polygons and their fidelity, drawn in a worker process while the analysis goes on
        iso_job = run.start("isochrones", isochrones.build, params, nets, trav)
        # coverage figures by tier and area
        figs = run.run("figures", figures.compute, params, walk, bounds, demand, trav)
        # capacity-aware accessibility (2SFCA, E2SFCA) and facility load, per tier with a capacity rule
        acc = run.run("access", access.compute, params, nets, demand, trav, figs)
        # uncovered areas, ranked
        gap = run.run("gaps", gaps.find, params, demand, trav, bounds)
        # candidate sites and their reach on the network, for each planned tier
        problems = run.run("siting", siting.problems, params, nets, bounds, demand, trav)
        # sites for the planned centres (greedy and exact)
        sites = run.run("siting solve", siting.suggest, params, problems, bounds, demand, trav, gap, figs)
        # the city's claims against the figures
        checked = run.run("claims", claims.check, params, figs.items + sites.figures + acc.figures)
        # the isochrones, when the worker has them
        iso = iso_job.result()
        # what the outputs show
        results = assemble.Results(nets, bounds, fac, demand, trav, iso, figs, gap, sites, checked, acc,
                                   streets.result())
        bundle = run.run("assemble", assemble.assemble, params, results)
    log(f"计算完成 / computed in {time.perf_counter() - t0:.1f} s")
    summary = SummaryFile.of(_plain(bundle.summary))
    return Plan(params, bundle, summary, sites, results, tuple(found), tuple(run.times))


def _plain(summary: dict) -> dict:
    """The summary as ``summary.json`` will hold it (paths as text …), so that a computed plan's
    figures equal those :func:`carecover.read_plan` reads back."""
    import json

    return json.loads(json.dumps(summary, ensure_ascii=False, default=str))


def publish(plan: Plan, out: str | Path | None = None) -> dict[str, Path]:
    """Write a computed plan's outputs into ``out`` (``plan.params.out`` when not given):
    :meth:`Plan.publish <carecover.plan.result.Plan.publish>`."""
    return plan.publish(out)


def run(params: RunParams) -> dict[str, Path]:
    """``publish(compute(params))``: the whole job, written into ``params.out``; returns the
    written files."""
    return publish(compute(params))
