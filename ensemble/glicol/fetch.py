"""Get the Glicol engine: fetched once through npm, verified, cached, never committed."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from ensemble.errors import UserError

PACKAGE = "glicol@0.4.0"
# `npm view glicol@0.4.0 dist.integrity`: the registry's own checksum of the tarball.
TARBALL_SHA512 = "1ebgPZa9C/Bu6D16+SI6DDO7xcjULgan21NRRruCQeFjUwIsfY3BlKmiQ3geid9PfTEyWr4hEZabHRSl2YLCGw=="
WASM_MEMBER = "package/glicol_wasm.wasm"
# The wasm inside that tarball, so that a cached copy can be checked without the tarball.
WASM_SHA256 = "6b23d4ea0d00cbf31605f208446187bd8500880533d89bf92d6947dba9dc2f55"
WASM_ENV = "ENSEMBLE_GLICOL_WASM"
HOW_TO_PROVIDE = (
    f"install Node.js with npm (e.g. apt-get install npm) and run `ensemble engine fetch`, "
    f"or set {WASM_ENV} to a glicol_wasm.wasm taken from the npm package {PACKAGE}"
)


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "ensemble"


def cached_wasm_path() -> Path:
    return cache_dir() / f"glicol-{PACKAGE.split('@')[1]}.wasm"


def wasm_path(fetch: bool = True) -> Path:
    """The engine's wasm file: from ENSEMBLE_GLICOL_WASM, the cache, or fetched now."""
    override = os.environ.get(WASM_ENV)
    if override:
        path = Path(override)
        if not path.is_file():
            raise UserError(f"{WASM_ENV}={override} is not a file; {HOW_TO_PROVIDE}")
        return path
    path = cached_wasm_path()
    if path.is_file() and _sha256(path.read_bytes()) == WASM_SHA256:
        return path
    if not fetch:
        raise UserError(f"the Glicol engine is not cached yet; {HOW_TO_PROVIDE}")
    return fetch_engine()


def fetch_engine() -> Path:
    """Download the npm package with `npm pack`, check its integrity, cache the wasm."""
    npm = shutil.which("npm")
    if npm is None:
        raise UserError(f"the Glicol engine is not cached and npm was not found; {HOW_TO_PROVIDE}")
    print(f"ensemble: fetching the Glicol engine ({PACKAGE}) with npm, once", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="ensemble-glicol-") as work:
        result = subprocess.run(
            [npm, "pack", PACKAGE, "--json", "--pack-destination", work],
            capture_output=True, text=True, timeout=300, check=False,
        )
        if result.returncode != 0:
            last = (result.stderr.strip().splitlines() or ["no output"])[-1]
            raise UserError(f"`npm pack {PACKAGE}` failed: {last}")
        filename = json.loads(result.stdout)[0]["filename"]
        tarball = (Path(work) / filename).read_bytes()
    wasm = extract_verified_wasm(tarball)
    path = cached_wasm_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_bytes(wasm)
    partial.replace(path)  # atomic: a reader never sees half a file
    return path


def extract_verified_wasm(tarball: bytes) -> bytes:
    digest = base64.b64encode(hashlib.sha512(tarball).digest()).decode()
    if digest != TARBALL_SHA512:
        raise UserError(f"the downloaded {PACKAGE} does not match its pinned sha512; not using it")
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        member = archive.extractfile(WASM_MEMBER)
        if member is None:
            raise UserError(f"{PACKAGE} has no {WASM_MEMBER}")
        wasm = member.read()
    if _sha256(wasm) != WASM_SHA256:
        raise UserError(f"{WASM_MEMBER} in {PACKAGE} does not match its pinned sha256")
    return wasm


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
