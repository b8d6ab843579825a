"""Outputs of a run, drawn from a :class:`~carecover.outputs.bundle.PlanBundle`.

:mod:`~carecover.outputs.bundle` (what the outputs read: tables, summary and the run's
:class:`~carecover.params.RunParams`), :mod:`~carecover.outputs.maps` (folium map),
:mod:`~carecover.outputs.report` (HTML/Markdown report with charts),
:mod:`~carecover.outputs.export` (GeoPackage, GeoJSON, CSV, XLSX); ``assets/`` holds the
vendored Leaflet and jQuery for offline maps.
"""
