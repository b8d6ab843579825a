"""What-if in a meeting: add or remove sites and see the coverage change at once.

假如……会怎样：在现状（或规划方案）上增加或撤销站点，立即给出覆盖率变化与边际增益。

The same command as ``carecover whatif`` (options: ``--help`` or ``docs/meetings.md``)::

    python scripts/whatif.py --out maps/demo --tier street_centre --add 24.9425,60.1660
    python scripts/whatif.py --out maps/demo --tier street_centre --remove-existing S001
"""

import sys

from carecover.meeting.whatif import main

if __name__ == "__main__":
    sys.exit(main())
