"""Compare coverage scenarios from a plan's prepared state (no re-routing): for meetings.

情景对比：现状、加上各层级规划站点、全部规划——老年人口与总人口的覆盖率和人数。

The same command as ``carecover scenarios`` (options: ``--help`` or ``docs/meetings.md``)::

    python scripts/compare_scenarios.py --out maps/demo
    python scripts/compare_scenarios.py --out out --tier street_centre --tier township_centre
"""

import sys

from carecover.meeting.scenarios import main

if __name__ == "__main__":
    sys.exit(main())
