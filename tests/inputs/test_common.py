"""What every population reader shares (``carecover.inputs.population.common``)."""

from __future__ import annotations

import pytest
from carecover.inputs import population as P


class TestConservation:
    def test_check_conservation(self):
        P.check_conservation(1000.0, 1000.9)
        with pytest.raises(P.ConservationError):
            P.check_conservation(1000.0, 1001.1)
        P.check_conservation(0.0, 0.0)
        with pytest.raises(P.ConservationError):
            P.check_conservation(0.0, 1.0)
        with pytest.raises(P.ConservationError):
            P.check_conservation(1.0, float("nan"))


class TestPublicNames:
    """The package re-exports the names the rest of carecover imports."""

    def test_population_names(self):
        from carecover.inputs.population import (  # noqa: F401
            BUILDING_WEIGHTS,
            DEFAULT_LEVELS,
            DEMAND_COLUMNS,
            UNKNOWN_BUILDING_WEIGHT,
            ConservationError,
            Demand,
            aggregate_grid,
            apply_elderly_share,
            building_weights,
            check_conservation,
            from_buildings,
            from_raster,
            from_vector,
            geographic_cell_area,
        )

    def test_register_names(self):
        from carecover.inputs.registers import (  # noqa: F401
            COLUMNS,
            DUPLICATE_RADIUS_M,
            FIELD_ALIASES,
            REQUIRED,
            STATUSES,
            USABLE,
            crs_plausibility,
            empty_facilities,
            map_columns,
            read_facilities,
            read_register,
            validation_table,
            write_validation_report,
        )

        assert DUPLICATE_RADIUS_M == 10.0 and USABLE == ("ok", "swapped_fixed")
        assert list(empty_facilities().columns) == list(COLUMNS)
