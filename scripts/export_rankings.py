"""Export the gap and site rankings of a plan to one Excel workbook with Chinese headers.

导出排名：覆盖空白区排名与建议站点排名，每个层级各一张工作表，表头为中文。

The same command as ``carecover rankings`` (options: ``--help`` or ``docs/meetings.md``)::

    python scripts/export_rankings.py --out maps/demo              # → maps/demo/rankings.xlsx
    python scripts/export_rankings.py --out maps/demo --xlsx 排名.xlsx
"""

import sys

from carecover.meeting.rankings import main

if __name__ == "__main__":
    sys.exit(main())
