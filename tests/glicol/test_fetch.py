"""Getting the engine: verified, cached, and a clear message when it cannot be had."""

import base64
import hashlib
import io
import tarfile

import pytest

from ensemble.errors import UserError
from ensemble.glicol import fetch


def _tarball(wasm: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo(fetch.WASM_MEMBER)
        info.size = len(wasm)
        archive.addfile(info, io.BytesIO(wasm))
    return buffer.getvalue()


def test_a_tarball_that_is_not_the_pinned_one_is_refused():
    with pytest.raises(UserError, match="does not match its pinned sha512"):
        fetch.extract_verified_wasm(_tarball(b"\0asm not the engine"))


def test_a_pinned_tarball_with_the_wrong_wasm_is_refused(monkeypatch):
    tarball = _tarball(b"\0asm not the engine")
    monkeypatch.setattr(fetch, "TARBALL_SHA512", base64.b64encode(hashlib.sha512(tarball).digest()).decode())
    with pytest.raises(UserError, match="does not match its pinned sha256"):
        fetch.extract_verified_wasm(tarball)


def test_without_npm_or_cache_the_message_says_how_to_provide_it(monkeypatch, tmp_path):
    monkeypatch.delenv(fetch.WASM_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))  # no npm here
    with pytest.raises(UserError) as error:
        fetch.wasm_path()
    message = str(error.value)
    assert "npm was not found" in message and fetch.WASM_ENV in message and "ensemble engine fetch" in message


def test_the_environment_variable_must_name_a_file(monkeypatch, tmp_path):
    monkeypatch.setenv(fetch.WASM_ENV, str(tmp_path / "missing.wasm"))
    with pytest.raises(UserError, match="is not a file"):
        fetch.wasm_path()


def test_a_corrupt_cached_engine_is_not_used(monkeypatch, tmp_path):
    monkeypatch.delenv(fetch.WASM_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    fetch.cached_wasm_path().parent.mkdir(parents=True)
    fetch.cached_wasm_path().write_bytes(b"torn")
    with pytest.raises(UserError, match="not cached yet"):
        fetch.wasm_path(fetch=False)


@pytest.mark.usefixtures("glicol")
def test_the_cached_engine_is_the_pinned_one():
    path = fetch.wasm_path(fetch=False)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == fetch.WASM_SHA256
