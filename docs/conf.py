"""Sphinx configuration for apophis_sim.

Build (from the repository root)::

    pip install ".[docs]"
    sphinx-build -W --keep-going -b html docs docs/_build/html

Everything builds offline: no intersphinx inventories are fetched; references to
numpy/astropy/matplotlib types stay plain text (see ``nitpick_ignore_regex``).
Every build executes the tour notebook ``examples/apophis_2029.ipynb`` (through the
symlink ``docs/notebooks/apophis_2029.ipynb``; a cell error fails it) and every
``examples/*.py`` script (sphinx-gallery, into ``docs/auto_examples/``; an error in a
script fails it).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))

import apophis_sim  # noqa: E402  (the installed package is documented, never a copy)

# The notebook's kernel must draw with its inline backend: an inherited MPLBACKEND
# (e.g. Agg from a headless shell) would make its figures vanish from the page.
os.environ.pop("MPLBACKEND", None)

# -- project ----------------------------------------------------------------
project = "apophis_sim"
author = "apophis_sim developers"
copyright = "apophis_sim developers"  # noqa: A001
release = apophis_sim.__version__
version = ".".join(release.split(".")[:2])

# -- extensions -------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_nb",
    "sphinx_gallery.gen_gallery",
    "reexports",  # docs/_ext/reexports.py: the table of apophis_sim's re-exported names
    "apidocs",    # docs/_ext/apidocs.py: one page per object, references follow imports
]

#: Modules with an ``automodule`` page (docs/api/), in reading order. A re-exported
#: class or function is documented once, in the module that defines it.
apophis_api_modules = [
    "apophis_sim",
    "apophis_sim.state",
    "apophis_sim.elements",
    "apophis_sim.propagate",
    "apophis_sim.nbody",
    "apophis_sim.solution",
    "apophis_sim.encounter",
    "apophis_sim.visibility",
    "apophis_sim.rendezvous",
    "apophis_sim.uncertainty",
    "apophis_sim.tables",
    "apophis_sim.risk",
    "apophis_sim.ephemeris",
    "apophis_sim.bodies",
    "apophis_sim.time",
    "apophis_sim.units",
    "apophis_sim.errors",
    "apophis_sim.plotting",
]
#: Modules whose page is a table of re-exports (docs/_ext/reexports.py), not copies.
apophis_table_modules = ["apophis_sim"]

source_suffix = {".rst": "restructuredtext", ".ipynb": "myst-nb", ".md": "myst-nb"}
exclude_patterns = ["_build", "**.ipynb_checkpoints", "Thumbs.db", ".DS_Store",
                    # sphinx-gallery's notebook downloads of the scripts: files, not pages
                    "auto_examples/*.ipynb"]
root_doc = "index"
templates_path = []

# -- autodoc / numpydoc -----------------------------------------------------
autodoc_default_options = {
    "members": True,
    "member-order": "bysource",
}
# Signatures show the hints; numpydoc's Parameters section gives units and meaning.
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
numpydoc_show_class_members = False  # autodoc lists the members itself
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# Every unresolved reference is a warning (and -W makes it an error) ...
nitpicky = True
# ... except names of third-party types: this build is offline, so there are no
# intersphinx inventories for numpy, astropy, matplotlib, dask or the stdlib.
nitpick_ignore_regex = [
    (r"py:(class|obj|data|func|meth|attr|exc)",
     r"(np|numpy|u|astropy|Time|Quantity|QTable|Table|EarthLocation|SkyCoord|UnitBase"
     r"|matplotlib|plt|Axes|Figure|dask|distributed|pyarrow|pd|os|pathlib|Path|PathLike"
     r"|collections|typing|abc|datetime|numba|jplephem|boinor|poliastro|scipy|rebound"
     r"|assist|contextlib|dataclasses|json|enum|types|functools)(\..*)?"),
    (r"py:class", r"(int|float|str|bool|complex|bytes|dict|list|tuple|set|frozenset|object"
                  r"|None|type|callable|Callable|Any|Literal|Sequence|Iterable|Iterator"
                  r"|Mapping|NamedTuple|ndarray|array_like|array-like|optional"
                  r"|default|shape|sequence|iterable|mapping)"),
]
# Precise exceptions, each a reference in a docstring to something that has no page:
nitpick_ignore_regex += [
    # The compiled float core is private (STYLE.md: "_core/ float64 numba kernels");
    # rendezvous.py and ephemeris.py docstrings name its modules for the curious.
    (r"py:(mod|func|data)", r"apophis_sim\._core(\..*)?"),
]
nitpick_ignore = [
    # plotting/porkchop.py (plot_porkchop) refers to rendezvous.feasible_cells, which
    # has a docstring but is not in rendezvous.__all__, so automodule leaves it out.
    ("py:func", "apophis_sim.rendezvous.feasible_cells"),
    # uncertainty.py (MonteCarloResult, owned by another branch) refers to the
    # module constant RESULT_COLUMNS, which is not in uncertainty.__all__.
    ("py:data", "RESULT_COLUMNS"),
    # solution.py (OrbitSolution.from_sbdb, on main since the sbdb merge; owned by
    # another branch) refers to the module constant SBDB_URL, not in solution.__all__.
    ("py:data", "SBDB_URL"),
    # montecarlo.py (run_monte_carlo, owned by another branch since the 'mc' merge)
    # refers to the module constants MAX_CHUNKS and MAX_CLONES, not in uncertainty.__all__.
    ("py:data", "MAX_CHUNKS"),
    ("py:data", "MAX_CLONES"),
    # time.py (user_stacklevel) refers to the standard library's warnings.warn; this
    # offline build has no Python inventory.
    ("py:func", "warnings.warn"),
]

# -- myst-nb ----------------------------------------------------------------
nb_execution_mode = "force"       # the tour notebook runs on every build ...
nb_execution_raise_on_error = True  # ... and a failing cell fails the build
nb_execution_timeout = 300        # per cell [s]; the whole notebook takes ~30 s
nb_execution_show_tb = True
myst_enable_extensions = ["dollarmath"]

# -- sphinx-gallery -----------------------------------------------------------
# The gallery of examples/*.py: every script runs on every build (about a minute in all
# on 2 cores), as ``python examples/NAME.py --out DIR`` would; docs/_ext/gallery.py gives
# it a temporary --out folder and shows the PNG files it writes there.
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"\.py$",          # execute every example, not only plot_*.py
    "reset_argv": "gallery.reset_argv",
    "image_scrapers": ("gallery.png_scraper",),
    "within_subsection_order": "gallery.NarrativeOrder",
    "download_all_examples": False,
    "remove_config_comments": True,
    "min_reported_time": 1,
    "show_signature": False,
}

# -- HTML -------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"apophis_sim {release}"
html_static_path = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_show_sourcelink = False
