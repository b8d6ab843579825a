"""Meeting commands on a plan's prepared state: ``carecover whatif``, ``scenarios``, ``rankings``.

会议用命令：假如……、情景对比、排名表。They answer from ``OUT/state/<tier>.npz`` and the tables of
one ``carecover plan`` run without re-routing (see ``docs/meetings.md``):

* :mod:`~carecover.meeting.whatif` -- add or remove sites, see the coverage change at once;
* :mod:`~carecover.meeting.scenarios` -- current, current + each tier's plan, all planned;
* :mod:`~carecover.meeting.rankings` -- gaps and sites workbook with Chinese headers;
* :mod:`~carecover.meeting.cli` -- their argument parsers (``carecover`` subcommands and the
  thin scripts in ``scripts/``); :mod:`~carecover.meeting.common` -- shared helpers.

The computing is done by :mod:`carecover.siting.whatif` (the one what-if engine) on
:mod:`carecover.siting.state`'s prepared states.
"""
