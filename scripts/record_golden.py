"""Record the golden outputs of tests/golden.py (run before an intended change, then review).

Usage: python scripts/record_golden.py [CASE ...]   (default: every case)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import golden  # noqa: E402
from carecover import cli  # noqa: E402


def main(cases: list[str]) -> int:
    for case in cases or golden.CASES:
        missing = [p for p in golden.needs(case) if not p.exists()]
        if missing:
            print(f"{case}: skipped, missing {missing}")
            continue
        with tempfile.TemporaryDirectory() as tmp:
            out = golden.run(case, Path(tmp), cli.main)
            golden.record(case, out)
        print(f"{case}: recorded → {golden.expected_dir(case)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
