"""Ramses launch windows
=====================

When can a spacecraft launched from Earth rendezvous with Apophis before its 2029 flyby?

Run::

    python examples/ramses_windows.py --out out/

and look at ``out/porkchop_c3.png``, ``out/porkchop_total_dv.png`` and
``out/transfer.png``.

The story
---------
ESA's Ramses mission (with JAXA) is to launch on an H3 rocket from Tanegashima
in a window of under three weeks, late April - early May 2028, and arrive at
(99942) Apophis in February 2029, two months before its 13 April 2029 flyby.

This script asks the same question of two-impulse (ballistic Lambert)
transfers: Earth from JPL DE440, Apophis from its n-body trajectory (JPL
orbit solution #220 propagated with the full DE440 force model), every launch
date of 2027-2028 against every arrival date up to March 2029. Each cell of the
porkchop holds the launch energy C3, the declination of the launch asymptote
(DLA, which Tanegashima's latitude limits), the arrival v_inf (the rendezvous
delta-v) and the total delta-v. ``launch_windows`` then keeps the launch dates
for which some arrival meets the documented default constraints (C3 <= 30
km^2/s^2, ``|DLA|`` <= 40 deg, arrival v_inf <= 2.5 km/s, arrival by 2029-02-13)
and ranks the windows by their best total delta-v.

The figures: the C3 and total delta-v porkchops (dotted: time of flight;
dashed: boundary of the feasible region; red boxes: the ranked windows; star:
the best point), and the best transfer drawn in the ecliptic plane with the
orbits of Earth and Apophis.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display needed (CI, servers)

import astropy.units as u  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

from apophis_sim import rendezvous as rv  # noqa: E402
from apophis_sim.plotting import plot_porkchop, plot_transfer  # noqa: E402
from apophis_sim.time import utc_dates, utc_iso  # noqa: E402


def main(out: Path, step_days: float) -> None:
    out.mkdir(parents=True, exist_ok=True)
    # Calendar dates are UTC midnights (what a launch date means), computed in TDB;
    # dates in 2029 rest on "no new leap second": one UTCAssumptionWarning says so.
    launches = utc_dates("2027-01-01", "2028-12-31", step_days * u.day)
    arrivals = utc_dates("2027-02-01", "2029-03-01", step_days * u.day)
    pc = rv.porkchop(launches, arrivals)            # Earth (DE440) -> Apophis (n-body)
    windows = rv.launch_windows(pc)                 # documented default constraints
    feasible = rv.feasible_cells(pc)

    print(f"{pc.shape[0]} x {pc.shape[1]} porkchop, {pc.ok.sum()} transfers; "
          f"{len(windows)} launch windows")
    print("dates are UTC")
    for rank, w in enumerate(windows, start=1):
        d = w.to_dict()
        print(f"#{rank}: launch {d['launch_open_utc'][:10]} .. {d['launch_close_utc'][:10]}, "
              f"best {d['best_launch_utc'][:10]} -> {d['best_arrival_utc'][:10]}: "
              f"C3 {d['c3_km2_s2']:.1f} km^2/s^2, DLA {d['dla_deg']:.1f} deg, "
              f"arrival v_inf {d['v_inf_arrival_km_s']:.2f} km/s, "
              f"total {d['total_dv_km_s']:.2f} km/s")
    best = windows[0] if windows else True

    for quantity in ("c3", "total_dv"):
        fig, ax = plt.subplots(figsize=(9, 7), layout="constrained")
        plot_porkchop(ax, pc, quantity, windows=windows, best=best, feasible=feasible)
        fig.savefig(out / f"porkchop_{quantity}.png", dpi=120)
        plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 7.6), layout="constrained")
    plot_transfer(ax, pc, windows[0] if windows else None)
    ax.set_title("best rendezvous transfer (ecliptic J2000, from the north)", fontsize=10)
    fig.savefig(out / "transfer.png", dpi=120)
    plt.close(fig)

    # A ride-share on the best launch date: which arrivals does a C3 of 15 km^2/s^2 allow?
    if windows:
        table = rv.ride_share_options(windows[0].best_launch, 15 * u.km**2 / u.s**2)
        print(f"ride-share on {utc_iso(windows[0].best_launch)[:10]} with C3 <= 15 km^2/s^2: "
              f"{len(table)} arrival dates feasible"
              + (f", best arrival v_inf "
                 f"{table['v_inf_arrival'][0].to_value(u.km / u.s):.2f} km/s on "
                 f"{utc_iso(table['arrival'][0])[:10]}" if len(table) else ""))
    print(f"figures written to {out}/")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("out"), help="output folder")
    parser.add_argument("--step", type=float, default=2.0, help="grid step [days]")
    args = parser.parse_args()
    main(args.out, args.step)
