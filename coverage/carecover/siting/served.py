"""Site selection with capacity: the maximal served model (an assignment model), spopt-style.

Build a :class:`MaximalServed` model from the reach matrices of the candidates and of the existing
facilities, the demand, and every facility's capacity, then solve it with the same solver objects
as the covering model::

    model = MaximalServed.from_reach_matrix(reach, elderly, cap_existing, cap_new, p=8,
                                            existing_reach=existing)
    greedy = model.solve(Greedy())                 # lazy greedy, exact LP marginal gains
    exact = model.solve(Highs(time_limit=30))      # the reduced mixed-integer programme
    check = model.solve(BruteForce())              # every subset, each evaluated by its own LP

The model's data, formulation and result are in :mod:`carecover.siting.served_model`, the
solvers' served versions in :mod:`carecover.siting.served_solvers`, the transportation LPs and
the exact reduction in :mod:`carecover.siting.served_flow`.
"""

from __future__ import annotations

from carecover.siting.model import Solver, solver_checked, with_p
from carecover.siting.served_model import ServedModel, ServedSolution
from carecover.siting.served_solvers import run_served

__all__ = ["MaximalServed"]


class MaximalServed(ServedModel):
    """The maximal served model (:class:`~carecover.siting.served_model.ServedModel`, formulation
    in its docstring) with :meth:`solve`."""

    def solve(self, solver: Solver, *, p: int | None = None) -> ServedSolution:
        """Choose the sites.

        Parameters
        ----------
        solver
            :class:`~carecover.siting.greedy.Greedy`, :class:`~carecover.siting.highs.Highs` or
            :class:`~carecover.siting.brute.BruteForce`: each runs its served version in
            :mod:`carecover.siting.served_solvers`.
        p
            Override the model's ``p`` for this call.

        Returns
        -------
        ServedSolution
        """
        solver = solver_checked(solver)
        with with_p(self, p):
            return run_served(self, solver)
