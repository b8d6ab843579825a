"""``carecover plan`` as a list of stages: inputs → network → travel → analysis → siting → outputs."""

from __future__ import annotations

import time
from pathlib import Path

from carecover import notices
from carecover.outputs.maps.streets import street_lines
from carecover.plan import (
    access,
    area,
    assemble,
    background,
    checks,
    claims,
    figures,
    gaps,
    inputs,
    isochrones,
    ledger,
    networks,
    publish,
    siting,
    travel,
)
from carecover.plan.background import jobs
from carecover.plan.cache import StageCache
from carecover.plan.params import RunParams
from carecover.utils import log


def run(params: RunParams) -> dict[str, Path]:
    """Run the whole job and write its outputs into ``params.out``; returns the written files.

    Each stage is a plain function of typed inputs (``carecover.plan.<stage>``); the stages
    upstream of a changed parameter are read from the stage cache when their inputs and
    parameters are unchanged. Warnings (ours and the libraries') are collected for the
    summary; only ours reach the console.
    """
    t0 = time.perf_counter()
    # every warning of the run: shown once, written into the summary and the report
    with notices.collect(), jobs():
        # unusual values found when the parameters were resolved
        notices.replay(params.warnings)
        cache = StageCache.of(params)
        # the boundary, counties and unit boundaries, each read once
        bounds = area.read_boundaries_of(params)
        # the walking network: always needed, and without a boundary it gives the study area
        walk = networks.load_mode(params, bounds, "walk")
        # the maps' light street layer, merged and simplified in a worker process meanwhile
        streets = background.start(params.workers, street_lines, walk)
        # where facilities and residents are taken from
        study = area.study_area(bounds, walk)
        # every register record with its status
        fac = cache.run("facilities", inputs.read_facilities, params, study, walk)
        # a coordinate system the check is sure is wrong stops the run here (unless --crs was explicit)
        checks.crs_stop(params, fac)
        # the other networks that tiers with facilities or planned sites need
        nets = networks.load_networks(params, bounds, walk, fac)
        # population as demand points with their elderly share
        log("人口 / population …")
        demand = cache.run("demand", inputs.read_demand, params, study)
        # travel times of every tier
        trav = cache.run("travel", travel.route, params, nets, fac, demand)
        # a tier with no usable facility is said at once (and refused with --strict)
        checks.check(params, fac, trav)
        # the data-quality ledger: every reduction between inputs and figures, on the console now
        # (each line beyond its threshold a warning; with --strict, exit 2)
        led = ledger.compute(params, nets, study, fac, demand, trav)
        ledger.publish(params, led)
        # isochrone polygons and their fidelity, drawn in a worker process while the analysis goes on
        iso_job = cache.start(params.workers, "isochrones", isochrones.build, params, nets, trav)
        # coverage figures by tier and area
        figs = cache.run("figures", figures.compute, params, walk, bounds, demand, trav)
        # capacity-aware accessibility (2SFCA, E2SFCA) and facility load, per tier with a capacity rule
        acc = cache.run("access", access.compute, params, nets, demand, trav, figs)
        # uncovered areas, ranked
        gap = cache.run("gaps", gaps.find, params, demand, trav, bounds)
        # candidate sites and their reach on the network, for each planned tier
        problems = cache.run("siting", siting.problems, params, nets, bounds, demand, trav)
        # sites for the planned centres (greedy and exact)
        sites = siting.suggest(params, problems, bounds, demand, trav, gap, figs)
        # the city's claims against the figures
        checked = claims.check(params, figs.items + sites.figures + acc.figures)
        # the isochrones, when the worker has them
        iso = iso_job.result()
        # what the outputs show
        bundle = assemble.assemble(params, assemble.Results(nets, bounds, fac, demand, trav, iso, figs, gap, sites, checked,
                                                            acc, streets.result(), led))
        # map, report, tables and state files, moved into place only when all are written
        written = publish.publish(params, bundle, sites)
    log(f"完成 / done in {time.perf_counter() - t0:.1f} s → {params.out}")
    return written
