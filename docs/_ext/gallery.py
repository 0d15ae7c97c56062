"""sphinx-gallery glue for ``examples/``: run each script as a user would, show what it
wrote.

The examples are command-line scripts (``python examples/NAME.py --out DIR``) that save
their figures as PNG files and close them, so matplotlib's own scraper would find
nothing. Here:

* :func:`reset_argv` gives every script ``--out <temporary folder>/<NAME>`` (a fresh
  folder per build, so the Monte Carlo example never resumes an older run);
* :func:`png_scraper` puts the PNG files the script wrote there into the gallery page,
  in the order they were written, and closes any figure left open.

conf.py names both by their fully qualified names (a string keeps Sphinx's
configuration picklable, so ``-W`` sees no "cannot cache" warning).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

_ROOT: Path | None = None
_SEEN: dict[Path, set[Path]] = {}


def out_dir(src_file: str | Path) -> Path:
    """The ``--out`` folder of one example in this build."""
    global _ROOT
    if _ROOT is None:
        _ROOT = Path(tempfile.mkdtemp(prefix="apophis-sim-gallery-"))
        atexit.register(shutil.rmtree, _ROOT, True)
    return _ROOT / Path(src_file).stem


def reset_argv(gallery_conf, script_vars) -> list[str]:
    """Command-line arguments of an example: ``--out`` a fresh temporary folder."""
    return ["--out", str(out_dir(script_vars["src_file"]))]


def png_scraper(block, block_vars, gallery_conf) -> str:
    """The PNG files written into the example's ``--out`` folder since the last block."""
    from sphinx_gallery.scrapers import figure_rst

    try:
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - matplotlib is a dependency
        plt = None
    if plt is not None:
        plt.close("all")  # the PNG files are the figures; nothing else is shown
    folder = out_dir(block_vars["src_file"])
    if not folder.is_dir():
        return ""
    seen = _SEEN.setdefault(folder, set())
    new = sorted((p for p in folder.rglob("*.png") if p not in seen),
                 key=lambda p: (p.stat().st_mtime_ns, p.name))
    images = []
    for png, target in zip(new, block_vars["image_path_iterator"]):
        shutil.copyfile(png, target)
        seen.add(png)
        images.append(target)
    return figure_rst(images, gallery_conf["src_dir"])


#: The gallery's reading order: the geometry, the flyby, what is known about it, what
#: could follow from it, and the mission that goes to see it. Other scripts follow, by name.
ORDER = ("orbits_2029.py", "flyby_2029.py", "uncertainty_growth.py", "montecarlo_bplane.py",
         "keyholes_2029.py", "ramses_windows.py")


class NarrativeOrder:
    """sphinx-gallery ``within_subsection_order``: :data:`ORDER`, then by file name."""

    def __init__(self, src_dir) -> None:
        self.src_dir = src_dir

    def __call__(self, filename) -> tuple[int, str]:
        name = Path(str(filename)).name
        return (ORDER.index(name) if name in ORDER else len(ORDER), name)

    def __repr__(self) -> str:  # stable, so that Sphinx sees an unchanged configuration
        return f"{type(self).__name__}()"
