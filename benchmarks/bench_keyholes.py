"""Keyhole search: what it costs, as a ratio to one propagation measured in the same run.

Groups (never absolute times; these machines are shared):

* ``keyholes``: ``risk.keyholes(apophis(), until=2037)`` (the 7:6 / 2036 keyhole: the
  Valsecchi prediction, the period calibration, secant iterations and both edges to
  1 mm) vs one n-body run of the nominal from 2021 to 2037 with close-approach
  detection (the unit every keyhole step is made of). The ratio is the number of
  single-orbit-propagation equivalents the search needs (batched runs of several
  orbits count less than their orbits: the kernel runs particles in parallel).
* ``orbit_through``: moving #220 into the 2036 keyhole centre (< 1 cm) vs the same
  reference.
* ``return_keyholes``: the keyholes of the 2036 close return to 2041 (the 2040
  impact), given the close returns, vs the same reference (~300 on 2 shared cores).

The workload is deterministic (no random numbers; "seeded" trivially). The full
search to 2100 (``until=2100``) took 186 s on 2 cores for the 2000 km window
(see the keyhole docs); it is not run here.
"""

from __future__ import annotations

import astropy.units as u
from astropy.time import Time

from apophis_sim import apophis, close_approaches
from apophis_sim.ephemeris import Ephemeris
from apophis_sim.risk import keyholes, orbit_through

from conftest import record_ratio

UNTIL = Time("2037-01-01", scale="tdb")


def test_reference_propagation(benchmark, bench_registry):
    sol = apophis()
    eph = Ephemeris.open()
    close_approaches(sol, UNTIL, bodies=("earth",), distance_max=0.3 * u.au, ephemeris=eph)
    tab = benchmark(close_approaches, sol, UNTIL, bodies=("earth",), distance_max=0.3 * u.au,
                    ephemeris=eph)
    assert len(tab) >= 1
    bench_registry.setdefault("keyholes", {})["reference"] = benchmark
    bench_registry.setdefault("orbit_through", {})["reference"] = benchmark


def test_keyhole_search_2036(benchmark, bench_registry):
    sol = apophis()
    eph = Ephemeris.open()
    tab = benchmark.pedantic(keyholes, args=(sol, UNTIL), kwargs={"ephemeris": eph},
                             rounds=2, iterations=1, warmup_rounds=0)
    assert len(tab) == 1 and tab["resonance"][0] == "7:6"
    bench_registry.setdefault("keyholes", {})["search"] = benchmark
    record_ratio(bench_registry, "keyholes", "search", "reference",
                 "keyhole_search_over_one_propagation", digits=2)


def test_orbit_through_2036(benchmark, bench_registry):
    sol = apophis()
    eph = Ephemeris.open()
    zeta = 46095.2077 * u.km
    o = benchmark.pedantic(orbit_through, args=(sol,), kwargs={"zeta": zeta, "ephemeris": eph},
                           rounds=2, iterations=1, warmup_rounds=0)
    assert abs(o.provenance["orbit_through"]["achieved_zeta_km"] - 46095.2077) < 1e-3
    bench_registry.setdefault("orbit_through", {})["through"] = benchmark
    record_ratio(bench_registry, "orbit_through", "through", "reference",
                 "orbit_through_over_one_propagation", digits=2)


UNTIL_2041 = Time("2041-01-01", scale="tdb")


def test_return_keyholes_2041(benchmark, bench_registry):
    """``risk.return_keyholes(apophis(), 2041)`` given the close returns (the 2036 one):
    the search of the 2036 return's b-plane, the zoomed scans for the 2040 virtual
    impactor, its covariance linearisation and the integrator's confirmation, as
    single-propagation equivalents of the same reference (group ``return_keyholes``)."""
    from apophis_sim.risk import return_keyholes

    sol = apophis()
    eph = Ephemeris.open()
    returns = keyholes(sol, UNTIL_2041, return_distance_max=0.01 * u.au, ephemeris=eph)
    tab = benchmark.pedantic(return_keyholes, args=(sol, UNTIL_2041),
                             kwargs={"returns": returns, "ephemeris": eph},
                             rounds=1, iterations=1, warmup_rounds=0)
    assert len(tab) >= 1 and bool(tab["confirmed"][0])
    group = bench_registry.setdefault("return_keyholes", {})
    group["search"] = benchmark
    group["reference"] = bench_registry.get("keyholes", {}).get("reference")
    if group["reference"] is not None:
        record_ratio(bench_registry, "return_keyholes", "search", "reference",
                     "return_keyholes_over_one_propagation", digits=1)
