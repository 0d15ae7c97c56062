#!/usr/bin/env python3
"""Run every fenced ```python block of README.md as a standalone script.

Each block is written, in order, to its own temporary folder as ``snippet_NN.py``
and run there with ``python snippet_NN.py`` (that folder is the working
directory, so files a snippet writes, such as ``mc/``, land there). Any non-zero
exit fails the run; the output of a failing block is shown with its README line.

A block opts out only with an explicit HTML comment on the line right before its
opening fence (blank lines between are allowed)::

    <!-- ci: skip -->
    ```python
    ...

Usage: python .ci/readme_snippets.py [README.md]   (exit 0: every block ran)
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([\w+-]*)")
SKIP = re.compile(r"^\s*<!--\s*ci:\s*skip\s*-->\s*$")


def python_blocks(text: str) -> list[tuple[int, str, bool]]:
    """(first line number, code, skipped) of every ```python block, in order."""
    lines = text.splitlines()
    blocks = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, lang = m.groups()
        start = i
        i += 1
        body = []
        while i < len(lines) and not lines[i].strip().startswith(fence):
            body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
            i += 1
        i += 1  # closing fence
        if lang.lower() not in ("python", "py", "python3"):
            continue
        prev = start - 1
        while prev >= 0 and not lines[prev].strip():
            prev -= 1
        skipped = prev >= 0 and bool(SKIP.match(lines[prev]))
        blocks.append((start + 1, "\n".join(body) + "\n", skipped))
    return blocks


def main(argv: list[str]) -> int:
    readme = Path(argv[1] if len(argv) > 1 else Path(__file__).resolve().parents[1] / "README.md")
    blocks = python_blocks(readme.read_text(encoding="utf-8"))
    if not blocks:
        print(f"no ```python blocks found in {readme}", file=sys.stderr)
        return 1
    failed, ran, skipped = [], 0, 0
    for n, (line, code, skip) in enumerate(blocks, 1):
        label = f"{readme.name} block {n} (line {line})"
        if skip:
            print(f"--- {label}: skipped (<!-- ci: skip -->)")
            skipped += 1
            continue
        with tempfile.TemporaryDirectory(prefix=f"readme-snippet-{n:02d}-") as tmp:
            script = Path(tmp) / f"snippet_{n:02d}.py"
            script.write_text(code, encoding="utf-8")
            t0 = time.monotonic()
            proc = subprocess.run([sys.executable, script.name], cwd=tmp,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            dt = time.monotonic() - t0
        ran += 1
        status = "ok" if proc.returncode == 0 else f"FAILED (exit {proc.returncode})"
        print(f"--- {label}: {status} in {dt:.1f} s")
        if proc.returncode != 0:
            failed.append(label)
            print(proc.stdout, end="" if proc.stdout.endswith("\n") else "\n")
    # Worded unlike a test runner's "N passed, N failed" summary on purpose: the
    # test count of a CI run is pytest's, not this.
    print(f"README snippets: {len(failed)} of {ran} run failed; {skipped} opted out")
    for label in failed:
        print(f"FAILED: {label}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
