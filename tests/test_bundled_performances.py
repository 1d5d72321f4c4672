"""The bundled performances render to the same bytes as before the house was rebuilt.

The hashes were taken with the code as it stood before the redesign (issue "One house"): a
change of structure must not change a single sample or MIDI byte. Run through the real CLI.
"""

import hashlib

import pytest

from ensemble.cli import main
from ensemble.resources import bundled

pytestmark = pytest.mark.usefixtures("glicol")

# (performance, seed) -> (sha256 of the WAV, sha256 of the Standard MIDI File)
EXPECTED = {
    ("telephone.ens", 7): ("429a4d9aa7f1868fe7846a529b7932e64a6b8751c7cd99cdd3bee6bf88527f21",
                           "94710edac62cad30ae2954d3cba6e95cc9440ddbea8517eee650519485835a61"),
    ("canon.ens", 7): ("5fa899c4ed371dca9e0e65e768b7ee1d629848198e8945559ca9e258218da66b",
                       "c5de22d7b2ba5edf8b92348eb938d0e17b0702ef788512baa9f016a411524461"),
    ("ripple.ens", 7): ("d10be25ec0a635851a086f4da377451dec20aa6dab6fb3f63168084304932c84",
                        "567ee88728525a2552957e45b99548b66653bb6ac2cd7c78c00bc1ec05f218be"),
    ("by_ear.ens", 7): ("63c4c335f4663ce954b2d462599d067cc7514f4f76e0d658b976940b5b95a404",
                        "c484f342f5cd56be6e63798f58f10e0f8d8bc461dea5ce2730a668c312737f7a"),
    ("recorded/canon-2026-11-21.jsonl", 0): (
        "3c5202beaaa21c3f3dd23ad42ab179214d6c96ad0d73ae632f6c29657131a57a",
        "1c2121a74a8c86f9a83eb37def5c3a591b35f4d75ae80debbc0ffebf5c10dbe8"),
}
DEMO_WAV = "e80dff47c24ed57683d905984781aef8b40673f6a5f3cf98f25925b7d34b83aa"


def _sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(("performance", "seed"), list(EXPECTED))
def test_a_bundled_performance_renders_the_same_bytes_as_before(tmp_path, performance, seed):
    wav, mid = tmp_path / "out.wav", tmp_path / "out.mid"
    args = ["render", str(bundled("performances") / performance), "--out", str(wav), "--midi", str(mid)]
    assert main([*args, "--seed", str(seed)] if performance.endswith(".ens") else args) == 0
    assert (_sha256(wav), _sha256(mid)) == EXPECTED[(performance, seed)]


def test_the_demo_renders_the_same_bytes_as_before(tmp_path):
    assert main(["demo", "--out", str(tmp_path / "demo.wav")]) == 0
    assert _sha256(tmp_path / "demo.wav") == DEMO_WAV
