"""Site selection: where new centres should go, and what-ifs on a plan's prepared state.

* :mod:`~carecover.siting.model` -- the maximal covering model (formulation in its docstring);
  :mod:`~carecover.siting.constraints` -- its inputs and side constraints;
* solvers: :mod:`~carecover.siting.greedy` (lazy greedy + online bound),
  :mod:`~carecover.siting.highs` (the reduced integer programme, HiGHS; its Lagrangian bound and
  candidate fixing in :mod:`~carecover.siting.covering_bound`),
  :mod:`~carecover.siting.brute` (enumeration); :mod:`~carecover.siting.solution` -- their result;
* :mod:`~carecover.siting.served` -- the maximal served model (capacity; formulation in its
  docstring), its solvers in :mod:`~carecover.siting.served_solvers`, its transportation
  LPs and reduction in :mod:`~carecover.siting.served_flow`, its Lagrangian bound in
  :mod:`~carecover.siting.served_bound`;
* :mod:`~carecover.siting.curve` -- coverage against the number of sites, sites for a target;
* :mod:`~carecover.siting.candidates` -- candidate sites; :mod:`~carecover.siting.table` -- sites.csv;
* :mod:`~carecover.siting.state` -- the state file format (writing and reading);
  :mod:`~carecover.siting.prepared` -- the loaded state and its queries;
  :mod:`~carecover.siting.whatif` -- the one what-if engine;
  :mod:`~carecover.siting.reach` -- reach matrices as boolean CSR.

Nothing is imported here, so the meeting commands load only what they use.
"""
