"""The `ensemble` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ensemble import __version__
from ensemble.errors import UserError
from ensemble.outputs.base import Output
from ensemble.resources import bundled

DEMO_SCRIPT = "telephone.ens"


def _message(text: str) -> None:
    print(text, file=sys.stderr)


def _render(source: Path, out: Path, seed: int, name: str | None = None, midi: Path | None = None) -> int:
    from dataclasses import replace

    from ensemble.performance.sources import load_performance, render
    from ensemble.report import accuracy_table

    performance = load_performance(source, seed, on_message=_message)
    if name:
        performance = replace(performance, name=name)
    result = render(performance, out, on_message=_message, midi=midi)
    session = result.session
    print(f"wrote {out} ({result.audio_seconds:.1f} s, {len(result.phrase_starts)} phrases, "
          f"seed {performance.seed}, {result.speed:.0f}x real time)")
    if midi is not None:
        print(f"wrote {midi}")
    print(f"seed melody: {session.ensemble.melody}")
    print(accuracy_table(session.history, session.ensemble))
    return 0


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"a seed is a whole number >= 0, not '{text}'")
    return value


def _demo(args: argparse.Namespace) -> int:
    script = bundled("performances") / DEMO_SCRIPT
    return _render(script, Path(args.out), args.seed, name=f"demo ({DEMO_SCRIPT})")


def _render_command(args: argparse.Namespace) -> int:
    return _render(Path(args.script), Path(args.out), args.seed, midi=Path(args.midi) if args.midi else None)


def _play(args: argparse.Namespace) -> int:
    from ensemble.clock import RealtimeClock
    from ensemble.conductor import Conductor
    from ensemble.performance.journal import JournalWriter
    from ensemble.performance.sources import load_performance
    from ensemble.session import Session

    performance = load_performance(Path(args.script), args.seed, on_message=_message)
    outputs = _outputs(args)
    session = Session(seed=performance.seed, on_message=_message)
    journal = JournalWriter(Path(args.record), session, args.to or ["glicol"]) if args.record else None
    conductor = Conductor(performance.make(session), session.tempo, outputs, RealtimeClock(),
                          lookahead=args.lookahead, on_message=_message)
    try:
        conductor.run()
    except KeyboardInterrupt:
        conductor.stop()  # outputs were closed on the way out: nothing is left sounding
    finally:
        if journal is not None:
            journal.close()
            print(f"recorded {journal.path}")
    print(f"played {conductor.phrases_played} phrases on {', '.join(o.name for o in conductor.outputs)}")
    return 0


def _plot(args: argparse.Namespace) -> int:
    from ensemble.plot import plot_journal

    plot_journal(Path(args.journal), Path(args.output), on_message=_message)
    print(f"wrote {args.output}")
    return 0


def _outputs(args: argparse.Namespace) -> list[Output]:
    from ensemble.outputs.destinations import parse_output

    if not 0 < args.lookahead <= 2:
        raise UserError(f"--lookahead must be between 0 and 2 seconds, not {args.lookahead:g}")
    if not 0 <= args.sc_latency <= 2:
        raise UserError(f"--sc-latency must be between 0 and 2 seconds, not {args.sc_latency:g}")
    return [parse_output(spec, args.sc_latency, args.midi_backend, args.midi_clock)
            for spec in dict.fromkeys(args.to or ["glicol"])]


def _repl(args: argparse.Namespace) -> int:
    from functools import partial

    from ensemble.clock import RealtimeClock
    from ensemble.midi import ports
    from ensemble.outputs.destinations import parse_output
    from ensemble.repl import run_repl
    from ensemble.stage import Stage

    make_output = partial(parse_output, sc_latency=args.sc_latency, midi_backend=args.midi_backend,
                          midi_clock=args.midi_clock)
    stage = Stage(_outputs(args), RealtimeClock(), seed=args.seed, lookahead=args.lookahead,
                  on_message=print, make_output=make_output)
    run_repl(stage, midi_ports=lambda: ports.output_names(ports.backend(args.midi_backend)), vi_mode=args.vi)
    return 0


def _add_live_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--to", action="append", metavar="OUTPUT",
                        help="glicol (the sound card, default), sc or sc:HOST:PORT (SuperCollider), "
                        "midi or midi:PORT (a port's name or a unique part of it); repeatable")
    parser.add_argument("--lookahead", type=float, default=0.15,
                        help="seconds between handing a note to the outputs and its sounding "
                        "(default 0.15)")
    parser.add_argument("--sc-latency", type=float, default=0.05,
                        help="seconds added to SuperCollider time tags, the server's slack (default 0.05)")
    parser.add_argument("--midi-backend", choices=["jack", "alsa"],
                        help="rtmidi's JACK or ALSA API (default: mido's, or MIDO_BACKEND)")
    parser.add_argument("--midi-clock", action="store_true",
                        help="also send MIDI clock (24 pulses per beat, start and stop) on the MIDI port")
    parser.add_argument("--seed", type=_seed, default=0, help="random seed (default: 0)")


def _midi_ports(args: argparse.Namespace) -> int:
    from ensemble.midi import ports

    names = ports.output_names(ports.backend(args.midi_backend))
    print("\n".join(names) if names else "no MIDI output ports (`--to midi` offers one of its own)")
    return 0


def _engine_fetch(_: argparse.Namespace) -> int:
    from ensemble.glicol.engine import GlicolEngine
    from ensemble.glicol.fetch import wasm_path

    path = wasm_path()
    GlicolEngine(on_message=_message)  # compiles once and caches the native module
    print(f"Glicol engine ready: {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ensemble", allow_abbrev=False,
        description="A chain of Q-learning agents playing musical telephone. "
        "Without a command: the stage REPL, playing while you type.")
    parser.add_argument("--version", action="version", version=f"ensemble {__version__}")
    _add_live_options(parser)
    parser.add_argument("--vi", action="store_true", help="Vi key bindings in the REPL (default: Emacs)")
    parser.set_defaults(run=_repl)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = commands.add_parser("demo", help="render the bundled telephone performance to a WAV")
    demo.add_argument("--out", default="telephone.wav", help="WAV file (default: telephone.wav)")
    demo.add_argument("--seed", type=_seed, default=0, help="random seed (default: 0)")
    demo.set_defaults(run=_demo)

    render = commands.add_parser("render", help="render a performance script offline to a WAV")
    render.add_argument("script", metavar="SCRIPT|JOURNAL",
                        help="a performance script (one command per line) or a recorded journal (.jsonl)")
    render.add_argument("--out", required=True, help="WAV file to write")
    render.add_argument("--midi", help="also write the performance as a Standard MIDI File")
    render.add_argument("--seed", type=_seed, default=0, help="random seed (default: 0)")
    render.set_defaults(run=_render_command)

    play = commands.add_parser("play", help="play a performance script live")
    play.add_argument("script", metavar="SCRIPT|JOURNAL",
                      help="a performance script (one command per line) or a recorded journal (.jsonl)")
    _add_live_options(play)
    play.add_argument("--record", metavar="FILE",
                      help="record the performance's journal (JSON Lines) to FILE")
    play.set_defaults(run=_play)

    replay = commands.add_parser("replay", help="play a recorded journal again, live")
    replay.add_argument("script", metavar="JOURNAL",
                        help="a journal (.jsonl) written by --record or `record on`")
    _add_live_options(replay)
    replay.set_defaults(run=_play, record=None)

    plot = commands.add_parser("plot", help="plot a journal: learning curves, a piano roll, the chain")
    plot.add_argument("journal", metavar="JOURNAL", help="a journal (.jsonl)")
    plot.add_argument("-o", "--output", required=True, metavar="FILE.png", help="the picture to write")
    plot.set_defaults(run=_plot)

    midi = commands.add_parser("midi", help="MIDI ports")
    midi_commands = midi.add_subparsers(dest="midi_command", required=True, metavar="ACTION")
    midi_ports = midi_commands.add_parser("ports", help="list the MIDI output ports")
    midi_ports.add_argument("--midi-backend", choices=["jack", "alsa"],
                            help="rtmidi's JACK or ALSA API (default: mido's, or MIDO_BACKEND)")
    midi_ports.set_defaults(run=_midi_ports)

    engine = commands.add_parser("engine", help="set up the Glicol engine")
    engine_commands = engine.add_subparsers(dest="engine_command", required=True, metavar="ACTION")
    fetch = engine_commands.add_parser("fetch", help="download (npm), verify and cache the engine")
    fetch.set_defaults(run=_engine_fetch)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except UserError as error:
        print(f"ensemble: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ensemble: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
