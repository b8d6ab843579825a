"""``carecover plan`` as a list of stages: inputs → network → travel → analysis → siting → outputs.

:func:`compute` runs the stages into a :class:`~carecover.plan.result.Plan` held in memory;
:func:`publish` writes its output folder; ``carecover plan`` is ``publish(compute(resolve(options)))``
(:func:`run`). Every stage goes through one :class:`~carecover.plan.runner.StageRunner`, which
times it, logs it and reads the cached stages back when their inputs are unchanged.
"""

from __future__ import annotations

from pathlib import Path

from carecover import notices
from carecover.network.streetlines import street_lines_cached
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
    ledger,
    networks,
    profiles,
    projection,
    siting,
    travel,
)
from carecover.plan.background import jobs, long_lived, settle
from carecover.plan.result import Plan
from carecover.plan.runner import StageRunner
from carecover.summary_file import SummaryFile
from carecover.utils import log


def compute(params: RunParams) -> Plan:
    """Run every stage of a plan and keep the results in memory (nothing is written but caches).

    Each stage is a plain function of typed inputs (``carecover.plan.<stage>``), read from the
    stage cache when its inputs and parameters are unchanged; warnings are collected for the summary.

    Parameters
    ----------
    params
        The resolved parameters (:func:`carecover.plan.resolve.resolve`).

    Returns
    -------
    Plan
        Figures, tables, sites, prepared what-if states and stage timings.
    """
    run = StageRunner(params)
    # every warning of the run: shown once, written into the summary and the report
    with notices.collect() as found, jobs(), long_lived():
        # unusual values found when the parameters were resolved
        notices.replay(params.warnings)
        # the boundary, counties and unit boundaries, each read once
        bounds = run.run("boundaries", area.read_boundaries_of, params)
        # the walking network: always needed, and without a boundary it gives the study area
        walk = run.run("network walk", networks.load_mode, params, bounds, "walk")
        # the mobility profiles' networks (--profiles, tier profiles, --site-profile); a DEM off the city: refused
        prof_nets = run.run("profile networks", profiles.prepare, params, walk) if profiles.wanted(params) else ()
        # the maps' light street layer, merged and simplified in a worker process meanwhile
        # (or read from beside the cached network)
        streets = run.start("street layer", street_lines_cached, walk)
        # where facilities and residents are taken from
        study = run.run("study area", area.study_area, bounds, walk)
        # every register record with its status
        fac = run.run("facilities", inputs.read_facilities, params, study, walk)
        # a coordinate system the check is sure is wrong stops the run here (unless --crs was explicit)
        run.run("crs check", checks.crs_stop, params, fac)
        # the other networks that tiers with facilities or planned sites need
        nets = run.run("networks", networks.load_networks, params, bounds, walk, fac)
        mode_nets, nets = nets, profiles.with_networks(params, nets, prof_nets)
        # population as demand points with their elderly share
        demand = run.run("demand", inputs.read_demand, params, study, label="人口 / population …")
        # travel times of every tier
        trav = run.run("travel", travel.route, params, nets, fac, demand)
        # every walk tier again for each mobility profile (--profiles), resident → facility
        by_profile = (run.run("profiles", profiles.compute, params, prof_nets, walk, demand, trav)
                      if params.profiles else None)
        # a tier with no usable facility is said at once (and refused with --strict)
        run.run("checks", checks.check, params, fac, trav)
        # the data-quality ledger: every reduction between inputs and figures, on the console now
        # (each line beyond its threshold a warning; with --strict, exit 2)
        led = run.run("ledger", ledger.compute, params, mode_nets, study, fac, demand, trav)
        ledger.report(params, led)
        # isochrone polygons and their fidelity: most drawn in a worker process while the analysis goes on
        iso_job = run.start("isochrones", isochrones.worker_share, params, nets, trav)
        # coverage figures by tier and area
        figs = run.run("figures", figures.compute, params, walk, bounds, demand, trav)
        profiles.tag_figures(params, figs.items)  # each figure of a tier measured with a profile names it
        # capacity-aware accessibility (2SFCA, E2SFCA) and facility load, per tier with a capacity rule
        acc = run.run("access", access.compute, params, nets, demand, trav, figs)
        profiles.tag_figures(params, acc.figures)
        # uncovered areas, ranked
        gap = run.run("gaps", gaps.find, params, demand, trav, bounds)
        # candidate sites and their reach on the network, for each planned tier (a tier sited for
        # another mobility profile is routed again on that profile's network)
        site_trav = (run.run("siting travel", profiles.siting_travel, params, nets, demand, trav)
                     if profiles.site_differs(params) else trav)
        problems = run.run("siting", siting.problems, params, nets, bounds, demand, site_trav)
        # sites for the planned centres (greedy and exact)
        sites = run.run("siting solve", siting.suggest, params, problems, bounds, demand, site_trav, gap, figs)
        # the reach matrices' seconds freed (the states keep the pattern) before the later peaks
        del problems
        settle()  # what the run keeps, out of the garbage collector's later full passes
        # a tier sited for another profile than its own: "after the sites" measured the tier's own way
        after_cols = profiles.remeasure_planned(params, nets, demand, trav, sites, figs.areas)
        profiles.tag_figures(params, sites.figures)
        profiles.mark_sites(params, sites)  # the sites and their record name the profile they are sited for
        # the projected elderly of --year, today and with the suggested sites (None without --year)
        projected = run.run("projection", projection.compute, params, demand, trav, figs, gap, sites)
        # the city's claims against the figures
        checked = run.run("claims", claims.check, params, figs.items + sites.figures + acc.figures
                          + profiles.claim_figures(params, by_profile))
        # the cheapest isochrones drawn here meanwhile, then the worker's share
        rest = run.run("isochrones here", isochrones.main_share, params, nets, trav)
        iso = isochrones.combine(trav, iso_job.result(), rest)
        # what the outputs show
        results = assemble.Results(nets, bounds, fac, demand, trav, iso, figs, gap, sites, checked, acc,
                                   streets.result(), led)
        bundle = run.run("assemble", assemble.assemble, params, results)
        # coverage per mobility profile (--profiles) and today vs the projected year (--year)
        _add_optional(bundle, profiles.add_to_bundle, by_profile, after_cols, projected)
        settle()
    # the computation's wall seconds, from the runner's clock (kept out under SOURCE_DATE_EPOCH)
    bundle.summary["runtime_s"] = assemble.runtime_s(run.elapsed_s())
    log(f"计算完成 / computed in {run.elapsed_s():.1f} s")
    summary = SummaryFile.of(_plain(bundle.summary))
    return Plan(params, bundle, summary, sites, results, tuple(found), tuple(run.times), ledger=led)


def _add_optional(bundle, add_profiles, by_profile, after_cols, projected) -> None:
    """The summary keys only some runs have: coverage per mobility profile (``--profiles``) and
    the projected year (``--year``)."""
    add_profiles(bundle, by_profile, after_cols)
    if projected is not None:
        bundle.summary["projection"] = projected


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
