"""`ensemble play --midi-in`: a melody played on a keyboard (a plain rtmidi sender through a real
jackd) becomes the seed at the next boundary, the journal keeps it as a `seed`, and the chain
learns it: its last phrases, heard on a real JACK MIDI port, are the melody played."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from support import services
from support.jack_midi import Synth
from support.keys_player import Player

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """\
tempo 120
step 0.5
seed C4 C4 C4 C4
set all palette=chromatic:C4-B4 epsilon=0 alpha=1
spawn 1
seed midi 4
wait 5
train a0 200
wait 3
"""
PLAYED = [64, 67, 69, 71]  # E4 G4 A4 B4, a step (0.25 s) apart



def test_a_melody_played_in_becomes_the_seed_and_is_learned(steady_jack: services.Jack,
                                                            tmp_path: Path) -> None:
    (tmp_path / "keys.ens").write_text(SCRIPT)
    synth = Synth()
    command = [sys.executable, "-m", "ensemble", "play", "keys.ens", "--midi-in", "--to", "midi:synth",
               "--midi-backend", "jack", "--record", "keys.jsonl"]
    played = subprocess.Popen(command, cwd=tmp_path, env={**steady_jack.env, "PYTHONPATH": str(ROOT)},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    player = None
    try:
        steady_jack.wait_for_client("ensemble-midi-in")
        time.sleep(1.0)  # the performance has begun: `seed midi 4` landed on its first phrase
        player = Player(to="ensemble-midi-in:midi-in")
        player.play([(note, 0.25 * index, 0.2) for index, note in enumerate(PLAYED)], time.monotonic() + 0.05)
        _, err = played.communicate(timeout=60)
        time.sleep(0.1)
    finally:
        if played.poll() is None:
            played.kill()
        if player is not None:
            player.close()
        synth.close()
    assert played.returncode == 0, err
    assert "seed from the MIDI input: E4 G4 A4 B4" in err
    journal = [json.loads(line) for line in (tmp_path / "keys.jsonl").read_text().splitlines()]
    commands = [entry["command"] for entry in journal if "command" in entry]
    assert "seed E4 G4 A4 B4" in commands and not any("midi" in text for text in commands)
    heard = [message.note for _, message in synth.received if message.type == "note_on" and message.velocity]
    assert heard[-12:] == PLAYED * 3  # the last three phrases, after training on what was played
