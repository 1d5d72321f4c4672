"""One chain across three laptops: three network namespaces made by the test on a private bridge
(never the machine's own network), each running `ensemble play --link` with its own script.
alice's a0 learns alice's seed, bob's a0 copies it, carol's a0 copies bob's; carol plays on a
real JACK MIDI synth, which must hear alice's seed in the end. Then the same through a lossy,
delaying, reordering relay between bob and carol; and each laptop's journal replays offline."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from support import services
from support.jack_midi import Synth
from support.laptops import Laptop, Laptops
from support.lossy_relay import RelayProcess
from support.optional import required_module

from ensemble.melody import Melody

ROOT = Path(__file__).resolve().parents[2]
PORT = 7400
KEY = "the band's secret"
SEED = "D4 G4 A4 B4 A4"
LEARN = "tempo 300\nset a0 practice=3 epsilon_min=0\n"
PHRASES = 36
SCRIPTS = {
    "alice": f"seed {SEED}\nspawn 1\n{LEARN}wait {PHRASES}\n",
    "bob": f"seed C4 C4 C4 C4 C4\nspawn 1 follow alice/a0\n{LEARN}wait {PHRASES}\n",
    "carol": f"seed C5 C5 C5 C5 C5\nspawn 1 follow bob/a0\n{LEARN}wait {PHRASES}\n",
}


@pytest.fixture(autouse=True)
def link() -> None:
    required_module("aalink", "pip install 'ensemble[link]'")


def play(laptop: Laptop, peers: list[str], folder: Path, jack: services.Jack,
         to: str) -> subprocess.Popen[str]:
    (folder / f"{laptop.name}.ens").write_text(SCRIPTS[laptop.name])
    command = [sys.executable, "-m", "ensemble", "play", f"{laptop.name}.ens", "--link", "--to", to,
               "--midi-backend", "jack", "--name", laptop.name, "--listen", f"{laptop.address}:{PORT}",
               "--record", f"{laptop.name}.jsonl"]
    for peer in peers:
        command += ["--peer", peer]
    env = {**jack.env, "PYTHONPATH": str(ROOT), "ENSEMBLE_KEY": KEY}
    return laptop.popen(command, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                        text=True)


def perform(lan: Laptops, folder: Path, jack: services.Jack, bob_reaches_carol: str,
            carol_reaches_bob: str) -> dict[str, str]:
    """alice -> bob -> carol, carol on the synth; what each printed, once all three are done."""
    alice, bob, carol = lan["alice"], lan["bob"], lan["carol"]
    players = {
        "alice": play(alice, [f"{bob.address}:{PORT}"], folder, jack, "midi"),
        "bob": play(bob, [f"{alice.address}:{PORT}", bob_reaches_carol], folder, jack, "midi"),
        "carol": play(carol, [carol_reaches_bob], folder, jack, "midi:synth"),
    }
    said = {}
    for name, player in players.items():
        out, err = player.communicate(timeout=120)
        assert player.returncode == 0, f"{name}: {err}"
        assert "Traceback" not in err, f"{name}: {err}"
        said[name] = out + err
    return said


def heard_last(synth: Synth, phrases: int) -> list[int]:
    notes = [message.note for _, message in synth.received if message.type == "note_on" and message.velocity]
    return notes[-5 * phrases:]


def render(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`ensemble render ...` offline: no JACK, no network."""
    return subprocess.run([sys.executable, "-m", "ensemble", "render", *args], cwd=folder,
                          capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})


def journal_commands(path: Path) -> list[str]:
    entries = map(json.loads, path.read_text().splitlines())
    return [entry["command"] for entry in entries if "command" in entry]


def test_a_chain_across_three_laptops_converges_to_the_first_ones_seed(
        steady_jack: services.Jack, tmp_path: Path) -> None:
    synth = Synth()
    try:
        with Laptops(["alice", "bob", "carol"]) as lan:
            said = perform(lan, tmp_path, steady_jack, f"{lan['carol'].address}:{PORT}",
                           f"{lan['bob'].address}:{PORT}")
    finally:
        synth.close()
    assert all(f"played {PHRASES} phrases on midi" in text for text in said.values()), said
    assert heard_last(synth, 3) == list(Melody.parse(SEED).notes) * 3, said["carol"]
    # what carol took from bob is in its journal, so its performance replays without the network
    carols = journal_commands(tmp_path / "carol.jsonl")
    assert any(command.startswith("heard bob/a0 ") for command in carols)
    assert carols[-1] == f"heard bob/a0 {SEED}"
    replay = render(tmp_path, "carol.jsonl", "--out", "carol.wav")
    assert replay.returncode == 0 and "diverges" not in replay.stderr, replay.stderr
    assert "seed melody: C5 C5 C5 C5 C5" in replay.stdout and "bob/a0" in replay.stdout
    # and the three journals make one recording of the whole ensemble, each laptop where it began
    mixed = render(tmp_path, "alice.jsonl", "bob.jsonl", "carol.jsonl", "--out", "band.wav")
    assert mixed.returncode == 0, mixed.stderr
    assert "wrote band.wav" in mixed.stdout and "3 laptops" in mixed.stdout, mixed.stdout
    offsets = [float(line.split(" from ")[1].split()[0]) for line in mixed.stdout.splitlines()
               if " from " in line]
    assert len(offsets) == 3 and min(offsets) == 0.0 and max(offsets) < 5.0, mixed.stdout


def test_through_a_lossy_relay_the_chain_still_converges(steady_jack: services.Jack, tmp_path: Path) -> None:
    synth = Synth()
    try:
        with Laptops(["alice", "bob", "carol"]) as lan:
            bob, carol = lan["bob"], lan["carol"]
            # bob <-> carol through a relay on bob's laptop: 10% lost, 20 ms late with 10 ms of
            # jitter (so some overtake others)
            relay = RelayProcess(bob, a=(bob.address, PORT), b=(carol.address, PORT),
                                 listen_a=(bob.address, PORT + 1), listen_b=(bob.address, PORT + 2),
                                 loss=0.1, delay=0.02, jitter=0.01, seed=15).start()
            said = perform(lan, tmp_path, steady_jack, f"{bob.address}:{PORT + 1}",
                           f"{bob.address}:{PORT + 2}")
            summary = relay.stop()
    finally:
        synth.close()
    assert summary["a_to_b"]["dropped"] > 0 and summary["a_to_b"]["forwarded"] > PHRASES, summary
    assert heard_last(synth, 3) == list(Melody.parse(SEED).notes) * 3, said["carol"]
