"""Keyholes of the 2029 b-plane
============================

Keyholes of Apophis's 2029 b-plane: where the flyby would have to pass to come back
and hit the Earth.

Run::

    python examples/keyholes_2029.py --out out/                 # returns to 2040 (CI, < 1 min)
    python examples/keyholes_2029.py --out out/ --until 2100    # the full search (minutes)

and look at ``out/keyholes_2029.png`` and ``out/keyholes_2029.ecsv``.

The story
---------
On 13 April 2029 Apophis passes 38 012 km from the Earth's centre. The
encounter changes its period from 0.89 to 1.16 years, by an amount that
depends on exactly where it crosses the b-plane (the plane through the Earth
perpendicular to its incoming velocity). Crossings that give a period of
``k/h`` years (``h`` revolutions in ``k`` years) bring it back to the same
place as the Earth ``k`` years later: each resonance draws a circle on the
b-plane (Valsecchi et al. 2003), and the few hundred metres of each circle that
lead to an impact are its *keyhole*.

``apophis_sim.risk.keyholes`` places each circle analytically, then finds the
keyhole's edges with full n-body propagations of orbits moved along the line
of variations. The famous one is the 2036 keyhole of the 7:6 resonance: about
600 m wide, it kept Apophis on the Torino scale until 2006. JPL's orbit #220
passes 1 267 km (about 1 100 sigma) from it.

By default the example searches returns up to 2040 (caps the resonances so
that it runs in CI in well under two minutes); ``--until 2100`` runs the full
search of the library's default.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display needed (CI, servers)

import astropy.units as u  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from astropy.time import Time  # noqa: E402

from apophis_sim import apophis  # noqa: E402
from apophis_sim.plotting import (plot_impact_probability, plot_keyhole_map,  # noqa: E402
                                  plot_keyhole_zoom)
from apophis_sim.risk import impact_probability, keyholes  # noqa: E402


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--until", type=int, default=2040,
                        help="last return year searched (default 2040, CI-sized)")
    parser.add_argument("--window", type=float, default=2000.0,
                        help="half-width of the searched LOV stretch [km]")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    tab = keyholes(apophis(), Time(f"{args.until}-01-01", scale="tdb"),
                   window=args.window * u.km)
    dt = time.perf_counter() - t0
    show = tab["return_date", "resonance", "xi", "zeta", "width", "distance", "sigma_lov",
               "v_impact", "zeta_valsecchi", "edge_tolerance"]
    show.pprint_all()
    print(f"{len(tab)} keyholes to {args.until} within {args.window:g} km of the nominal "
          f"in {dt:.1f} s; period calibration {tab.meta['period_calibration']:.6f}")
    tab.meta.pop("_rows", None)
    tab.write(out / "keyholes_2029.ecsv", overwrite=True)

    fig = plt.figure(figsize=(9.5, 5.6), constrained_layout=True)
    gs = fig.add_gridspec(2, 2, width_ratios=[1.6, 1])
    ax = fig.add_subplot(gs[:, 0])
    plot_keyhole_map(ax, tab)
    ax.set_title(f"Apophis 2029 b-plane: impact keyholes to {args.until} (JPL #220)",
                 fontsize=9)
    plot_keyhole_zoom(fig.add_subplot(gs[0, 1]), tab, half_width_km=4.0)
    if len(tab):
        years = np.array([d.year for d in tab["return_date"].tdb.datetime])
        i36 = np.flatnonzero(years == 2036)
        row = int(i36[0]) if i36.size else int(np.argmin(np.abs(tab["distance"])))
        plot_keyhole_zoom(fig.add_subplot(gs[1, 1]), tab, centre=row, half_width_km=4.0)
    fig.savefig(out / "keyholes_2029.png", dpi=110)
    print(f"wrote {out / 'keyholes_2029.png'}")

    # Every keyhole is a virtual impactor: its probability (Gaussian mass of the LOV
    # interval, then the full covariance at the VI), integrated on to its impact.
    t0 = time.perf_counter()
    vis = impact_probability(apophis(), Time(f"{args.until}-01-01", scale="tdb"),
                             keyhole_table=tab, window=args.window * u.km)
    vis["date", "resonance", "sigma_lov", "log10_ip", "palermo", "torino", "confirmed",
        "latitude", "longitude"].pprint_all()
    print(f"{len(vis)} virtual impactors in {time.perf_counter() - t0:.1f} s; cumulative "
          f"log10 IP {vis.meta['cumulative_log10_ip']:.4g}")
    fig, ax = plt.subplots(figsize=(7.5, 4.2), constrained_layout=True)
    plot_impact_probability(ax, vis)
    ax.set_title(f"Apophis (JPL #220): impact probability of each virtual impactor to "
                 f"{args.until}", fontsize=9)
    fig.savefig(out / "impact_probability_2029.png", dpi=110)
    print(f"wrote {out / 'impact_probability_2029.png'}")


if __name__ == "__main__":
    main()
