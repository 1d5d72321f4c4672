"""The `ensemble` command."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ensemble import __version__, live_parts, logs
from ensemble.conductor import DEFAULT_LOOKAHEAD
from ensemble.errors import UserError
from ensemble.files import refuse_overlaps
from ensemble.outputs.destinations import DEFAULT_SC_LATENCY, help_text, make_output
from ensemble.performance.sources import Source, load_source
from ensemble.resources import bundled

if TYPE_CHECKING:
    pass

DEMO_SCRIPT = "telephone.ens"
SEED_HELP = "random seed (default: 0; a journal replays with its own)"


def _render(source: Source, out: Path, midi: Path | None = None, strict: bool = True) -> int:
    from ensemble.performance.offline import render
    from ensemble.report import accuracy_table, commands_table

    result = render(source, out, midi=midi, strict=strict)
    session = result.session
    print(f"wrote {out} ({result.audio_seconds:.1f} s, {len(result.phrase_starts)} phrases, "
          f"seed {source.seed}, {result.speed:.0f}x real time)")
    if midi is not None:
        print(f"wrote {midi}")
    print(f"seed melody: {session.chain.melody}")
    print(accuracy_table(session))
    print("commands, by the phrase they landed on:")
    print(commands_table(result.commands))
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
    from dataclasses import replace

    from ensemble.performance.offline import load

    script, out = bundled("performances") / DEMO_SCRIPT, Path(args.out)
    refuse_overlaps({"the demo's script": script}, {"--out": out})
    source = load(script, args.seed)
    return _render(replace(source, name=f"demo ({DEMO_SCRIPT})"), out)


def _render_command(args: argparse.Namespace) -> int:
    from ensemble.performance.offline import load
    from ensemble.performance.sources import is_journal

    out, midi = Path(args.out), Path(args.midi) if args.midi else None
    outputs = {"--out": out} if midi is None else {"--out": out, "--midi": midi}
    if len(args.scripts) > 1:  # a laptop ensemble's journals: one recording of the whole ensemble
        from ensemble.performance.mixdown import mixdown

        if args.seed is not None:
            raise UserError("--seed has no effect when mixing journals (each replays with its own seed); "
                            "leave it out")
        journals = [Path(path) for path in args.scripts]
        refuse_overlaps({f"the journal {path} being mixed": path for path in journals}, outputs)
        print("\n".join(mixdown(journals, out, midi=midi).summary()))
        return 0
    script = Path(args.scripts[0])
    journal = is_journal(script)
    refuse_overlaps({f"the {'journal' if journal else 'script'} being rendered": script}, outputs)
    # A journal's commands were applied once already: one that fails now is warned of, as live.
    return _render(load(script, args.seed), out, midi, strict=not journal)


def _play(args: argparse.Namespace) -> int:
    from ensemble.clock import RealtimeClock
    from ensemble.performance.runner import Runner
    from ensemble.realtime import prepare_interpreter

    if args.record:
        refuse_overlaps({"the performance being played": Path(args.script)}, {"--record": Path(args.record)})
    source = load_source(Path(args.script), args.seed, keyboard=args.midi_in is not None)
    outputs, band = live_parts.outputs(args), live_parts.band(args)
    # A live performance: once the outputs are open, their time-critical threads get the GIL soon.
    runner = Runner(source, outputs, RealtimeClock(), lookahead=args.lookahead,
                    when_open=prepare_interpreter, follow=live_parts.follow_asked(args),
                    keyboard=live_parts.keyboard(args), band=band)
    if args.record:
        runner.record(Path(args.record))
    try:
        runner.run()
    except KeyboardInterrupt:
        runner.stop()  # outputs were closed on the way out: nothing is left sounding
    print(f"played {runner.conductor.phrases_played} phrases on "
          f"{', '.join(o.name for o in runner.conductor.outputs)}")
    return 0


def _plot(args: argparse.Namespace) -> int:
    from ensemble.plot import plot_journal

    refuse_overlaps({"the journal being plotted": Path(args.journal)}, {"--output": Path(args.output)})
    plot_journal(Path(args.journal), Path(args.output))
    print(f"wrote {args.output}")
    return 0


def _analyze(args: argparse.Namespace) -> int:
    from ensemble.analysis import charts, tables
    from ensemble.analysis.transcript import transcribe_file
    from ensemble.files import written_together

    if args.window is not None and args.window < 1:
        raise UserError(f"--window is a number of phrases, at least 1, not {args.window}")
    performance, png = Path(args.performance), Path(args.plot) if args.plot else None
    if png is not None:
        refuse_overlaps({"the performance being analysed": performance}, {"--plot": png})
        charts.pyplot()  # no matplotlib: said before a long replay, not after it
    with written_together([] if png is None else [png]) as partials:
        transcript = transcribe_file(performance, args.seed)
        window = args.window or tables.default_window(transcript.phrases)
        print(tables.report(transcript, window), flush=True)
        if png is not None:
            charts.save(transcript, window, partials[0])
    if png is not None:
        print(f"wrote {png}")
    return 0


def _repl(args: argparse.Namespace) -> int:
    from functools import partial

    from ensemble.clock import RealtimeClock
    from ensemble.midi import ports
    from ensemble.realtime import prepare_interpreter
    from ensemble.repl import run_repl
    from ensemble.stage import Stage

    outputs, band = live_parts.outputs(args), live_parts.band(args)
    # A live performance: once the outputs are open, their time-critical threads get the GIL soon.
    stage = Stage(outputs, RealtimeClock(), seed=args.seed or 0, lookahead=args.lookahead,
                  make_output=partial(make_output, options=live_parts.live_options(args)),
                  when_open=prepare_interpreter, follow=live_parts.follow_asked(args),
                  keyboard=live_parts.keyboard(args), band=band)
    run_repl(stage, midi_ports=lambda: ports.output_names(ports.backend(args.midi_backend)), vi_mode=args.vi)
    return 0


@dataclass(frozen=True)
class _Option:
    """An option that may stand before the command or after it (`ensemble --seed 7 render ...`)."""

    flags: tuple[str, ...]
    default: Any
    argparse: dict[str, Any]


SHARED: dict[str, _Option] = {
    "to": _Option(("--to",), None, {"action": "append", "metavar": "OUTPUT",
                                    "help": f"where to play, repeatable: {help_text()}"}),
    "lookahead": _Option(("--lookahead",), DEFAULT_LOOKAHEAD, {
        "type": float, "help": f"seconds between handing a note to the outputs and its sounding "
                               f"(default {DEFAULT_LOOKAHEAD:g})"}),
    "sc_latency": _Option(("--sc-latency",), DEFAULT_SC_LATENCY, {
        "type": float, "help": f"seconds added to SuperCollider time tags, the server's slack "
                               f"(default {DEFAULT_SC_LATENCY:g})"}),
    "midi_backend": _Option(("--midi-backend",), None, {
        "choices": ["jack", "alsa"], "help": "rtmidi's JACK or ALSA API (default: mido's, or MIDO_BACKEND)"}),
    "midi_clock": _Option(("--midi-clock",), False, {
        "action": "store_true",
        "help": "also send MIDI clock (24 pulses per beat, start and stop) on the MIDI port"}),
    "nudge": _Option(("--nudge",), None, {
        "action": "append", "metavar": "[OUTPUT=]SECONDS",
        "help": "an output's latency: its notes are sent that much earlier, so that they are heard on "
                "the beat (repeatable; e.g. --nudge midi=0.012)"}),
    "link": _Option(("--link",), False, {
        "action": "store_true",
        "help": "join an Ableton Link session (needs ensemble[link]): its tempo, phrases on its quantum"}),
    "quantum": _Option(("--quantum",), None, {
        "type": float, "metavar": "BEATS",
        "help": "beats between the boundaries ensemble and its peers agree on (default: one phrase)"}),
    "link_start_stop": _Option(("--link-start-stop",), False, {
        "action": "store_true", "help": "with --link: start and stop with the Link session"}),
    "clock_in": _Option(("--clock-in",), None, {
        "nargs": "?", "const": "", "metavar": "PORT",
        "help": "follow the MIDI clock on a JACK MIDI output (PORT: a part of its name; none: a port of "
                "our own, ensemble-clock-in:clock-in)"}),
    "midi_in": _Option(("--midi-in",), None, {
        "nargs": "?", "const": "", "metavar": "PORT",
        "help": "a MIDI keyboard for `seed midi` (PORT: a part of a JACK MIDI output's name; none: a "
                "port of our own, ensemble-midi-in:midi-in)"}),
    "listen": _Option(("--listen",), None, {
        "metavar": "HOST:PORT",
        "help": "play in a laptop ensemble: listen here (UDP) for the other laptops' melodies"}),
    "peer": _Option(("--peer",), None, {
        "action": "append", "metavar": "HOST:PORT",
        "help": "another laptop of the ensemble, where it listens (repeatable); only these are heard"}),
    "name": _Option(("--name",), None, {
        "metavar": "NAME", "help": "this laptop's name to the others (default: the host name)"}),
    "key": _Option(("--key",), None, {
        "metavar": "SECRET",
        "help": "a secret every laptop shares: each message signed and checked "
                f"(or {live_parts.KEY_VARIABLE})"}),
    "seed": _Option(("--seed",), None, {"type": _seed, "help": SEED_HELP}),
    "vi": _Option(("--vi",), False, {"action": "store_true",
                                     "help": "Vi key bindings in the REPL (default: Emacs)"}),
}
LIVE = ("to", "lookahead", "sc_latency", "midi_backend", "midi_clock", "nudge", "link", "quantum",
        "link_start_stop", "clock_in", "midi_in", "listen", "peer", "name", "key")


def _add_shared(parser: argparse.ArgumentParser, names: tuple[str, ...], top: bool = False) -> None:
    """At the top an option's default is None (so that a command can tell it was given there);
    after the command it is left unset, so that it never overwrites what was given before."""
    for name in names:
        option = SHARED[name]
        parser.add_argument(*option.flags, dest=name, default=None if top else argparse.SUPPRESS,
                            **option.argparse)


def _settle_options(args: argparse.Namespace, accepted: tuple[str, ...], command: str) -> None:
    """Refuse an option the command would ignore; give the others their defaults."""
    for name, option in SHARED.items():
        value = getattr(args, name, None)
        if value is not None and name not in accepted:
            raise UserError(f"{option.flags[0]} has no effect on `ensemble {command}`; leave it out")
        setattr(args, name, option.default if value is None else value)


def _midi_ports(args: argparse.Namespace) -> int:
    from ensemble.midi import ports

    names = ports.output_names(ports.backend(args.midi_backend))
    print("\n".join(names) if names else "no MIDI output ports (`--to midi` offers one of its own)")
    return 0


def _engine_fetch(_: argparse.Namespace) -> int:
    from ensemble.glicol.engine import GlicolEngine
    from ensemble.glicol.fetch import wasm_path

    path = wasm_path()
    GlicolEngine()  # compiles once and caches the native module
    print(f"Glicol engine ready: {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ensemble", allow_abbrev=False,
        description="A chain of Q-learning agents playing musical telephone. "
        "Without a command: the stage REPL, playing while you type.")
    parser.add_argument("--version", action="version", version=f"ensemble {__version__}")
    _add_shared(parser, tuple(SHARED), top=True)
    parser.set_defaults(run=_repl, accepts=(*LIVE, "seed", "vi"), command="")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = commands.add_parser("demo", help="render the bundled telephone performance to a WAV")
    demo.add_argument("--out", default="telephone.wav", help="WAV file (default: telephone.wav)")
    _add_shared(demo, ("seed",))
    demo.set_defaults(run=_demo, accepts=("seed",), command="demo")

    render = commands.add_parser(
        "render", help="render a performance script offline to a WAV, or mix a laptop ensemble's journals")
    render.add_argument("scripts", metavar="SCRIPT|JOURNAL", nargs="+",
                        help="a performance script (one command per line) or a recorded journal (.jsonl); "
                             "several journals, one per laptop, are mixed into one recording of the "
                             "ensemble, each laptop where it began (by the laptops' clocks)")
    render.add_argument("--out", required=True, help="WAV file to write")
    render.add_argument("--midi", help="also write the performance as a Standard MIDI File (several "
                                       "journals: a track per laptop's agent, aligned as the audio)")
    _add_shared(render, ("seed",))
    render.set_defaults(run=_render_command, accepts=("seed",), command="render")

    play = commands.add_parser("play", help="play a performance script live")
    play.add_argument("script", metavar="SCRIPT|JOURNAL",
                      help="a performance script (one command per line) or a recorded journal (.jsonl)")
    _add_shared(play, (*LIVE, "seed"))
    play.add_argument("--record", metavar="FILE",
                      help="record the performance's journal (JSON Lines) to FILE")
    play.set_defaults(run=_play, accepts=(*LIVE, "seed"), command="play")

    replay = commands.add_parser("replay", help="play a recorded journal again, live")
    replay.add_argument("script", metavar="JOURNAL",
                        help="a journal (.jsonl) written by --record or `record on`")
    _add_shared(replay, (*LIVE, "seed"))
    replay.set_defaults(run=_play, record=None, accepts=(*LIVE, "seed"), command="replay")

    plot = commands.add_parser("plot", help="plot a journal: learning curves, a piano roll, the chain")
    plot.add_argument("journal", metavar="JOURNAL", help="a journal (.jsonl)")
    plot.add_argument("-o", "--output", required=True, metavar="FILE.png", help="the picture to write")
    plot.set_defaults(run=_plot, accepts=(), command="plot")

    analyze = commands.add_parser(
        "analyze", help="measure how the melodies changed along the chain: fidelity, drift, pitch sets, "
                        "intervals, contour, recovery")
    analyze.add_argument("performance", metavar="SCRIPT|JOURNAL",
                         help="a performance script or a recorded journal (.jsonl), replayed without sound")
    analyze.add_argument("--plot", metavar="FILE.png", help="also draw each measure over the phrases")
    analyze.add_argument("--window", type=int, metavar="N",
                         help="phrases averaged in each cell and line (default: a tenth of the performance)")
    _add_shared(analyze, ("seed",))
    analyze.set_defaults(run=_analyze, accepts=("seed",), command="analyze")

    midi = commands.add_parser("midi", help="MIDI ports")
    midi_commands = midi.add_subparsers(dest="midi_command", required=True, metavar="ACTION")
    midi_ports = midi_commands.add_parser("ports", help="list the MIDI output ports")
    _add_shared(midi_ports, ("midi_backend",))
    midi_ports.set_defaults(run=_midi_ports, accepts=("midi_backend",), command="midi ports")

    engine = commands.add_parser("engine", help="set up the Glicol engine")
    engine_commands = engine.add_subparsers(dest="engine_command", required=True, metavar="ACTION")
    fetch = engine_commands.add_parser("fetch", help="download (npm), verify and cache the engine")
    fetch.set_defaults(run=_engine_fetch, accepts=(), command="engine fetch")
    return parser


class Stopped(BaseException):
    """A signal asked us to stop. Not an Exception, so that nothing on the way out mistakes it
    for an output's failure; it unwinds like Ctrl-C, through every clean-up."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _stop(signum: int, frame: object) -> None:
    raise Stopped(signum)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Stop as Ctrl-C does (notes off, the journal flushed); the caller's handlers come back after.
    previous = {signum: signal.signal(signum, _stop) for signum in (signal.SIGTERM, signal.SIGHUP)}
    try:
        _settle_options(args, args.accepts, args.command)
        if args.run is _repl:  # the REPL shows messages above its prompt itself
            return args.run(args)
        with logs.shown_on(sys.stderr):
            return args.run(args)
    except UserError as error:
        print(f"ensemble: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ensemble: interrupted", file=sys.stderr)
        return 130
    except Stopped as stop:
        print(f"ensemble: stopped by {stop}", file=sys.stderr)
        return 128 + stop.signum
    except BrokenPipeError:  # what reads our output stopped reading (`| head`): nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit's flush is quiet
        return 128 + signal.SIGPIPE
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


if __name__ == "__main__":
    sys.exit(main())
