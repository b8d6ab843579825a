"""Region runs: many areas on a Dask cluster, exact across their borders (``carecover region``).

区域运行：多个区县/城市在 Dask 集群上计算，跨边界精确。Dask is imported only when a run
starts (:mod:`carecover.region.cluster`), so the package imports without the ``region`` extra.
"""
