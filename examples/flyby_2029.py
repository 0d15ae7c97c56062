"""The 2029 flyby: every figure
============================

The 13 April 2029 flyby of (99942) Apophis: every figure, from JPL's orbit solution.

Run::

    python examples/flyby_2029.py --out out/flyby_2029

The story
---------
JPL's orbit solution #220 gives Apophis's state on 2021-01-01. We integrate it for
eight years in the full force model JPL uses (DE440 planets and Moon, the 16
largest asteroids when the ``asteroids`` extra is installed, general relativity,
Earth's and the Sun's oblateness, and the Yarkovsky drift measured in the orbit
fit) and find the close approach on the integrator's dense output.

From the approach the script derives:

1. the Earth-centred geometry: Apophis passes inside the geostationary ring;
2. distance and speed against UTC time (the speed peaks at ~7.4 km/s);
3. the B-plane: the asymptote misses Earth's capture disc (gravitational
   focusing included) by a factor of ~3.5;
4. the sub-asteroid point, over the Atlantic at closest approach;
5. the orbit change: Earth's pull turns an Aten (a ~ 0.92 au) into an Apollo
   (a ~ 1.10 au);
6. the brightness: a naked-eye V ~ 3 for a few hours.

All figures go to ``--out``; the numbers are printed.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import astropy.units as u  # noqa: E402
from astropy.time import Time  # noqa: E402

from apophis_sim import apophis  # noqa: E402
from apophis_sim.encounter import analyse_flyby  # noqa: E402
from apophis_sim.plotting import write_flyby_figures  # noqa: E402
from apophis_sim.time import utc_iso  # noqa: E402
from apophis_sim.visibility import EarthOrientationWarning  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("out/flyby_2029"),
                        help="folder for the PNG figures")
    args = parser.parse_args()

    sol = apophis()
    print(f"{sol.name}, orbit solution {sol.solution}, epoch {sol.state.epoch.tdb.iso} TDB")
    with warnings.catch_warnings():
        # Earth orientation past the IERS tables (the ground track) is extrapolated, as
        # the docs state; TDB input raises no UTC warning.
        warnings.simplefilter("ignore", EarthOrientationWarning)
        flyby = analyse_flyby(sol, Time("2029-04-20", scale="tdb"), also=("moon",))
        paths = write_flyby_figures(flyby, args.out)
    print(flyby)
    when = utc_iso(flyby.time, 3)       # the approach to the millisecond
    peak = utc_iso(flyby.peak_time)     # a 5-minute sampled curve: to the second
    bp, ch = flyby.bplane, flyby.change
    print(f"closest approach {when} UTC: {flyby.distance.to_value(u.km):,.3f} km from Earth's "
          f"centre at {flyby.v_rel.to_value(u.km / u.s):.4f} km/s (v_inf "
          f"{flyby.v_inf.to_value(u.km / u.s):.4f} km/s)")
    print(f"B-plane: xi {bp.xi.to_value(u.km):,.0f} km, zeta {bp.zeta.to_value(u.km):,.0f} km, "
          f"b {bp.b.to_value(u.km):,.0f} km vs capture radius "
          f"{bp.capture_radius.to_value(u.km):,.0f} km")
    print(f"orbit: {ch.class_before} (a = {ch.a_before.to_value(u.au):.4f} au) -> "
          f"{ch.class_after} (a = {ch.a_after.to_value(u.au):.4f} au)")
    print(f"peak brightness V = {flyby.peak_magnitude:.2f} (geocentric) at {peak} UTC")
    print(f"forces: {', '.join(flyby.approaches.meta['forces'])}; ephemerides: "
          f"{', '.join(flyby.approaches.meta['ephemeris_files'])}")
    for p in paths:
        print(f"wrote {p}")


if __name__ == "__main__":
    main()
