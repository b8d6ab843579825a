"""carecover: 15-minute elderly-care service coverage on street networks.

一刻钟养老服务圈覆盖分析：街道路网出行时间、人口覆盖、空白区与选址。

Data flows one way::

    network -> snap/engine (travel times) -> coverage -> gaps/sites -> maps/report

The import package is ``carecover`` (source root ``coverage/``, so coverage.py works beside it);
coverage.py and pytest-cov install beside it.
"""

__version__ = "0.1.0"
