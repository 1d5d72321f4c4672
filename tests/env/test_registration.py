"""Importing ensemble.env registers the environments; without Gymnasium it says how to get it."""

import subprocess
import sys

from support.optional import required_module

gymnasium = required_module("gymnasium", "pip install 'ensemble[gym]'")


def test_importing_the_module_registers_both_environments():
    import ensemble.env  # noqa: F401

    assert {"CopyMelody-v0", "TuneVoice-v0"} <= set(gymnasium.registry)
    assert gymnasium.registry["TuneVoice-v0"].max_episode_steps == 50


def test_without_gymnasium_the_import_error_says_how_to_install_it():
    hide_gymnasium = "import sys; sys.modules['gymnasium'] = None; import ensemble.env"
    result = subprocess.run([sys.executable, "-c", hide_gymnasium], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 1
    assert "ImportError: ensemble.env needs Gymnasium: pip install 'ensemble[gym]'" in result.stderr
