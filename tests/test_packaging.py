"""What a non-editable install ships: every subpackage, the voices and the demo."""

from pathlib import Path

from support.optional import required_module

tomllib = required_module("tomllib", "Python 3.11 or later")
ROOT = Path(__file__).resolve().parent.parent


def test_every_subpackage_is_listed_for_installation():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "ensemble").rglob("__init__.py")}
    assert found <= listed


def test_the_bundled_folders_are_installed_with_the_package():
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    mapped = {"ensemble.patches": "patches", "ensemble.performances": "performances"}
    assert setuptools["package-dir"] == mapped
    assert list((ROOT / "patches" / "glicol").glob("*.glicol"))
    assert (ROOT / "performances" / "telephone.ens").is_file()
