"""The facilities contract: every input record with its status, and how each source was read.

设施契约：每条输入记录及其状态，以及每个来源的读取方式。
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd

__all__ = ["Register", "USABLE"]

#: Statuses whose facilities take part in routing (docs/ARCHITECTURE.md).
USABLE = ("ok", "swapped_fixed")


@dataclass(frozen=True)
class Register:
    """One facility source read into the Facilities contract.

    Attributes
    ----------
    frame
        EPSG:4326 GeoDataFrame, one row per input record whatever its status (columns in
        :data:`carecover.inputs.registers.COLUMNS`).
    info
        JSON-ready description of how the source was read: file, format, encoding, sheet or
        layer, header row, column mapping, coordinate system and where it came from, rows
        skipped as blank or comment lines (written into summary.json beside the input).
    """

    frame: gpd.GeoDataFrame
    info: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.frame)
