"""`python -m ensemble.supercollider.build`: writes patches/supercollider/NAME.scsyndef and NAME.scd."""

from __future__ import annotations

import sys
from pathlib import Path

from ensemble.supercollider.voices import sclang_source, synthdef_bytes

PATCHES = Path(__file__).resolve().parents[2] / "patches" / "supercollider"

HEADER = """\
// {name}: one of ensemble's SuperCollider voices.
// {name}.scsyndef is produced by `python -m ensemble.supercollider.build` from
// ensemble/supercollider/voices.py, not by sclang. This file states the same graph in
// sclang syntax, for reading and for use from sclang; edit voices.py, not this file.

"""


def write(directory: Path = PATCHES) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in synthdef_bytes().items():
        binary, source = directory / f"{name}.scsyndef", directory / f"{name}.scd"
        binary.write_bytes(data)
        source.write_text(HEADER.format(name=name) + sclang_source(name))
        written += [binary, source]
    return written


def main() -> None:
    for path in write():
        print(path, file=sys.stderr)


if __name__ == "__main__":
    main()
