"""The performer's command language: one declaration per command (catalogue.py), from which
parsing, printing, help, completion, typo hints and checks are derived (language.py)."""

from ensemble.commands.catalogue import (
    Follow,
    Forget,
    Heard,
    Help,
    Kill,
    Link,
    Load,
    Mute,
    Out,
    Peer,
    Peers,
    Perturb,
    Quit,
    Record,
    Seed,
    SeedMidi,
    Set,
    Solo,
    Spawn,
    Status,
    Step,
    Tempo,
    Train,
    Transpose,
    Unmute,
    Voice,
    Wait,
)
from ensemble.commands.language import COMMANDS, PERFORMANCE, Command, Context, Where, parse_command

__all__ = [
    "COMMANDS", "PERFORMANCE", "Command", "Context", "Follow", "Forget", "Heard", "Help", "Kill", "Link",
    "Load", "Mute", "Out", "Peer", "Peers", "Perturb", "Quit", "Record", "Seed", "SeedMidi", "Set", "Solo",
    "Spawn", "Status", "Step", "Tempo", "Train", "Transpose", "Unmute", "Voice", "Wait", "Where",
    "parse_command",
]
