"""What a live performance is made of, from the command line's options: its outputs (each with
its nudge), a keyboard for `seed midi`, a followed tempo (Link, a MIDI clock) and the other
laptops of a laptop ensemble. Each is made only when asked for: nothing listens on the network,
and no MIDI input is opened, unless an option says so."""

from __future__ import annotations

import argparse
import os
import socket
from typing import TYPE_CHECKING

from ensemble.errors import UserError
from ensemble.outputs.base import Output
from ensemble.outputs.destinations import LiveOptions, make_output
from ensemble.safe_text import printable
from ensemble.sync.follow import Follow

if TYPE_CHECKING:
    from ensemble.midi.keyboard import Keyboard
    from ensemble.peers.band import Band

KEY_VARIABLE = "ENSEMBLE_KEY"  # the laptops' shared secret, kept off the command line (and `ps`)


def live_options(args: argparse.Namespace) -> LiveOptions:
    if not 0 < args.lookahead <= 2:
        raise UserError(f"--lookahead must be between 0 and 2 seconds, not {args.lookahead:g}")
    if not 0 <= args.sc_latency <= 2:
        raise UserError(f"--sc-latency must be between 0 and 2 seconds, not {args.sc_latency:g}")
    return LiveOptions(args.sc_latency, args.midi_backend, args.midi_clock)


def outputs(args: argparse.Namespace) -> list[Output]:
    options = live_options(args)
    outputs = [make_output(spec, options) for spec in dict.fromkeys(args.to or ["glicol"])]
    nudges = _nudges(args.nudge or [], args.lookahead)
    unknown = set(nudges) - {"", *(output.name for output in outputs)}
    if unknown:
        raise UserError(f"--nudge {sorted(unknown)[0]}=...: no such output playing "
                        f"({', '.join(output.name for output in outputs)})")
    for output in outputs:
        output.nudge = nudges.get(output.name, nudges.get("", 0.0))
    return outputs


def _nudges(texts: list[str], lookahead: float) -> dict[str, float]:
    """`--nudge 0.01` (every output) or `--nudge midi=0.012` -> {"": 0.01, "midi": 0.012}."""
    nudges = {}
    for text in texts:
        name, _, number = text.rpartition("=")
        try:
            seconds = float(number)
        except ValueError:
            raise UserError(f"--nudge takes SECONDS or OUTPUT=SECONDS (e.g. midi=0.012), "
                            f"not '{printable(text, 40)}'") from None
        if not -1 <= seconds < lookahead:
            raise UserError(f"--nudge {printable(text, 40)}: from -1 s up to the lookahead "
                            f"({lookahead:g} s), "
                            f"since notes can be sent at most that much earlier")
        nudges[name] = seconds
    return nudges


def keyboard(args: argparse.Namespace) -> Keyboard | None:
    """`--midi-in`: the MIDI input `seed midi` listens to (a JACK MIDI port)."""
    if args.midi_in is None:
        return None
    from ensemble.midi.keyboard import Keyboard

    return Keyboard(connect_to=args.midi_in or None)


def band(args: argparse.Namespace) -> Band | None:
    """`--listen`: this laptop in a laptop ensemble; nothing listens on the network otherwise."""
    key = args.key if args.key is not None else os.environ.get(KEY_VARIABLE)
    if args.listen is None:
        given = [flag for flag, value in (("--peer", args.peer), ("--name", args.name), ("--key", args.key))
                 if value]
        if given:
            raise UserError(f"{given[0]} needs --listen HOST:PORT (where the other laptops reach this one)")
        return None
    from ensemble.peers.band import Band
    from ensemble.peers.names import laptop_name, parse_address

    peers = [parse_address(text) for text in args.peer or []]
    name = laptop_name(args.name) if args.name else laptop_name(socket.gethostname(), strict=False)
    if key == "":
        raise UserError(f"--key (or {KEY_VARIABLE}) is empty: give the secret every laptop shares")
    return Band(name, parse_address(args.listen), peers, None if key is None else key.encode())


def follow_asked(args: argparse.Namespace) -> Follow | None:
    """Link or an external MIDI clock, only when asked for: nothing goes on the network otherwise."""
    from ensemble.session import DEFAULT_TEMPO
    from ensemble.sync import follow

    if args.link and args.clock_in is not None:
        raise UserError("--link and --clock-in: follow one or the other")
    if args.link:
        return follow.link(DEFAULT_TEMPO, args.quantum, args.link_start_stop)
    if args.link_start_stop:
        raise UserError("--link-start-stop needs --link")
    if args.clock_in is not None:
        return follow.midi_clock(args.clock_in or None, args.quantum)
    if args.quantum is not None:
        raise UserError("--quantum needs --link or --clock-in")
    return None
