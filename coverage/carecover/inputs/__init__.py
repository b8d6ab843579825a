"""Inputs: readers that turn the city's files into typed results.

输入：把城市的各类文件读成统一的结果类型。

* :mod:`~carecover.inputs.population` — population rasters, vector grids / census polygons and
  OSM buildings, one module per source, each returning a :class:`~carecover.inputs.demand.Demand`;
* :mod:`~carecover.inputs.registers` — facility registers (CSV, XLSX, GeoJSON/GPKG/SHP), one
  module per format, validated into a :class:`~carecover.inputs.facilities.Register`;
* :mod:`~carecover.inputs.osm_facilities` — supplementary facilities from OSM tags (a
  ``Register`` too);
* :mod:`~carecover.inputs.boundaries` — the one boundary reader and its CRS policy;
* :mod:`~carecover.inputs.candidates` — candidate sites for new facilities.
"""
