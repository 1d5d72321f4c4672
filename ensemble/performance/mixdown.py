"""A mixdown: the journals of a laptop ensemble, each replayed offline, mixed into one recording.

Each laptop's journal replays that laptop's own performance (what it heard from its peers
included) through the offline render. Its phrase lines say when each phrase began on the
laptop's wall clock, so the renders can be laid on one time line: each from where its first
phrase began, after the earliest laptop's. What was played together then sounds together (with
Link the laptops' phrases fell on one beat grid). The laptops' clocks are taken to agree, as
NTP keeps them, to a few milliseconds; a journal that cannot say when it began is placed as
well as it can be, and the performer is told.

The renders are written to a hidden folder beside the output (the disk the mix goes to) and
mixed from there about a second at a time: whatever the length, the mix holds a second of
samples per laptop and of the sum (a few MB), and each render streams to disk as always; the
disk holds the renders until the mix is written. They are summed with 1/sqrt(n)
headroom, the loudness of one laptop for unrelated parts, and the limiter holds the sum under
the renders' own ceiling: nothing clips, and one laptop alone passes unchanged, sample for
sample. The output appears whole, with its MIDI file if asked for, or not at all.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import math
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TextIO

import numpy as np

from ensemble.dsp import SAMPLE_RATE
from ensemble.dsp.limiter import Limiter
from ensemble.dsp.wav_writer import PLAIN_HEADER, RF64_HEADER, WavWriter, file_bytes, needs_rf64
from ensemble.errors import UserError
from ensemble.files import PartialFile, same_file, written_together
from ensemble.glicol.engine import BLOCK
from ensemble.performance import progress
from ensemble.performance.journal import Journal, read_journal
from ensemble.performance.mixdown_midi import merge_midi
from ensemble.performance.offline import check_room, render
from ensemble.performance.sources import is_journal, journal_source

log = logging.getLogger(__name__)

CHANNELS = 2
PCM_SCALE = 32767.0  # the 16-bit sample of 1.0, as WavWriter writes it
# The renders' own ceiling, as their 16-bit samples hold it: a render alone is not touched.
CEILING = round(Limiter().ceiling * PCM_SCALE) / PCM_SCALE
CHUNK = 345 * BLOCK  # frames mixed at a time: about a second
DRIFT = 0.02  # seconds a live phrase may have begun away from where its replay puts it, unsaid
APART = 60.0  # seconds between one laptop's end and another's start that say they never played together


@dataclass(frozen=True)
class Part:
    """One laptop in the mix."""

    name: str  # from its journal's file name
    journal: Path
    phrases: int
    frames: int  # of its render, the ring-out included
    offset: int  # frames from the start of the mix to its first phrase

    @property
    def seconds(self) -> float:
        return self.frames / SAMPLE_RATE


@dataclass(frozen=True)
class Mixdown:
    out: Path
    midi: Path | None
    parts: list[Part]
    frames: int
    wall_seconds: float

    @property
    def seconds(self) -> float:
        return self.frames / SAMPLE_RATE

    def summary(self) -> list[str]:
        """What was written, and each laptop's place in it."""
        speed = self.seconds / max(self.wall_seconds, 1e-9)
        lines = [f"wrote {self.out} ({self.seconds:.1f} s, {len(self.parts)} laptops, "
                 f"{speed:.0f}x real time)"]
        if self.midi is not None:
            lines.append(f"wrote {self.midi} (a track per laptop's agent)")
        width = max(len(part.name) for part in self.parts)
        lines += [f"  {part.name:<{width}}  from {part.offset / SAMPLE_RATE:7.3f} s  "
                  f"{part.phrases:4d} phrases  {part.seconds:.1f} s" for part in self.parts]
        return lines


def laptop_names(paths: Sequence[Path]) -> list[str]:
    """Each journal's file name without its suffix (`alice.jsonl`: alice); a name met again is
    numbered (alice, alice-2), so that each laptop has its own render and tracks."""
    names: list[str] = []
    for path in paths:
        base = path.stem or "laptop"
        name, number = base, 1
        while name in names:
            number += 1
            name = f"{base}-{number}"
        names.append(name)
    return names


def read_journals(paths: Sequence[Path]) -> list[Journal]:
    """Every input, checked before any work: a journal each, each given once."""
    for index, path in enumerate(paths):
        for earlier in paths[:index]:
            if same_file(path, earlier):
                also = "" if path == earlier else f" (as {earlier} and {path})"
                raise UserError(f"{path} is given twice{also}: give each laptop's journal once")
        try:
            path.open("rb").close()
        except OSError as error:
            raise UserError(f"cannot read {path}: {error.strerror or error}") from None
        if not is_journal(path):
            raise UserError(f"{path} is a script: several performances are mixed from their journals "
                            f"(.jsonl, one per laptop); a script renders on its own")
    return [read_journal(path) for path in paths]


def mixdown(paths: Sequence[Path], out: Path, *, midi: Path | None = None,
            show_progress: bool = True) -> Mixdown:
    """Replay each journal and mix them into the WAV file `out` (and merge their MIDI into
    `midi`), each laptop at its own start. Every input is checked before any work."""
    journals = read_journals(paths)
    names = laptop_names(paths)
    check_together(names, journals)
    sources = [journal_source(journal) for journal in journals]  # says what each one lost, if anything
    stream = sys.stderr if show_progress else None
    started = time.perf_counter()
    targets = [out] if midi is None else [out, midi]
    with written_together(targets) as partials, _scratch(partials[0]) as scratch:
        renders: list[tuple[Path, list[int]]] = []
        for number, (name, path, source) in enumerate(zip(names, paths, sources, strict=True), start=1):
            if stream is not None:
                print(f"laptop {number} of {len(paths)}: {name} ({path})", file=stream, flush=True)
            wav = scratch / f"{name}.wav"
            # A journal's commands were applied once already: one that fails now is warned of, as live.
            result = render(source, wav, midi=None if midi is None else wav.with_suffix(".mid"),
                            show_progress=show_progress, strict=False)
            renders.append((wav, result.phrase_starts))
        began = [_began(name, journal, starts) for name, journal, (_, starts)
                 in zip(names, journals, renders, strict=True)]
        earliest = min((when for when in began if when is not None), default=0.0)
        offsets = [0.0 if when is None else when - earliest for when in began]
        parts = [Part(name, path, len(starts), _frames(wav), round(offset * SAMPLE_RATE))
                 for name, path, (wav, starts), offset in zip(names, paths, renders, offsets, strict=True)]
        frames = -(-max(part.offset + part.frames for part in parts) // BLOCK) * BLOCK
        check_room(file_bytes(frames), partials[0])
        if stream is not None:
            kind = "RF64 (longer than a WAV can hold)" if needs_rf64(frames) else "WAV"
            print(f"mixing {len(parts)} laptops into {out}: {progress.duration(frames / SAMPLE_RATE)} of "
                  f"audio, {progress.size(file_bytes(frames))} {kind}", file=stream, flush=True)
        _mix(parts, [wav for wav, _ in renders], partials[0], frames, stream)
        if midi is not None:
            merge_midi([(name, wav.with_suffix(".mid"), offset)
                        for name, (wav, _), offset in zip(names, renders, offsets, strict=True)],
                       partials[1].path, midi)
    return Mixdown(out, midi, parts, frames, time.perf_counter() - started)


def check_together(names: Sequence[str], journals: Sequence[Journal]) -> None:
    """Refuse, before any work, journals that were not played together (another day's journal
    given by mistake): the mix would be mostly silence. By the times the journals say, which is
    enough at this scale: each laptop played at least from its first phrase's start to its last's."""
    spans = sorted((span, name) for name, journal in zip(names, journals, strict=True)
                   if (span := _span(journal)) is not None)
    if not spans:
        return
    (_, end), before = spans[0]
    for (begin, last), name in spans[1:]:
        if begin - end > APART:
            raise UserError(f"{name} began {progress.duration(begin - end)} after {before} had stopped: they "
                            f"did not play together (a journal of another performance?)")
        if last > end:
            end, before = last, name


def _span(journal: Journal) -> tuple[float, float] | None:
    """Wall times within which the journal played, roughly: its first and last phrase starts, or
    when its recording began; None when it cannot say."""
    if journal.starts:
        return min(journal.starts.values()), max(journal.starts.values())
    started = _started(journal)
    return None if started is None else (started, started)


def _started(journal: Journal) -> float | None:
    """The header's `started`: when the recording began, to the second."""
    try:
        return datetime.datetime.fromisoformat(str(journal.header.get("started"))).timestamp()
    except ValueError:  # none, or not a time
        return None


def _began(name: str, journal: Journal, phrase_starts: list[int]) -> float | None:
    """The wall time at which the journal's first phrase began: the start of the first phrase
    that says when it began, less the time its replay puts between the two. None when the
    journal cannot say (it is then placed with the earliest)."""
    known = [(index, start) for index, start in sorted(journal.starts.items()) if index < len(phrase_starts)]
    if not known:
        return _began_roughly(name, journal)
    first, start = known[0]
    began = start - phrase_starts[first] / SAMPLE_RATE
    drift = max(abs(when - began - phrase_starts[index] / SAMPLE_RATE) for index, when in known)
    if drift > DRIFT:  # a tempo followed from Link, a held or realigned performance: not in the replay
        log.warning("%s: its phrases began up to %.3f s away from where its replay puts them (the tempo "
                    "it followed, or a pause, is not in its journal); the mix lines up its phrase %d",
                    name, drift, first + 1)
    return began


def _began_roughly(name: str, journal: Journal) -> float | None:
    """From the header's `started` (when the recording began, to the second), for a journal
    that does not say when its phrases began (not played live, or by an older ensemble)."""
    when = _started(journal)
    placed = "where its recording began, to the second" if when is not None else "with the earliest laptop"
    log.warning("%s: its journal does not say when its phrases began (recorded before ensemble said so, "
                "or not live); placed %s", name, placed)
    return when


def _data_start(file: BinaryIO) -> int:
    """Where a render's samples begin: after a plain WAV's header or an RF64 one (see wav_writer)."""
    file.seek(0)
    return RF64_HEADER if file.read(4) == b"RF64" else PLAIN_HEADER


def _frames(wav: Path) -> int:
    """The frames of a render, from its size."""
    with wav.open("rb") as file:
        return (wav.stat().st_size - _data_start(file)) // (CHANNELS * 2)


class _Render:
    """One laptop's render, read a stretch at a time as the mix passes over it."""

    def __init__(self, file: BinaryIO, part: Part) -> None:
        self.file = file
        self.part = part
        file.seek(_data_start(file))

    def add_to(self, mix: np.ndarray, start: int, gain: float) -> None:
        """Add what it plays during the frames of `mix`, which begin at `start` (in order: each
        call reads on from where the last one stopped)."""
        first = max(start, self.part.offset)
        last = min(start + len(mix), self.part.offset + self.part.frames)
        if last <= first:
            return
        wanted = (last - first) * CHANNELS * 2
        data = self.file.read(wanted)
        if len(data) != wanted:
            raise UserError(f"the render of {self.part.name} ended early: cannot mix it")
        samples = np.frombuffer(data, "<i2").reshape(-1, CHANNELS)
        mix[first - start:last - start] += samples * (gain / PCM_SCALE)


def _mix(parts: list[Part], wavs: list[Path], target: PartialFile, frames: int,
         stream: TextIO | None) -> None:
    """Sum the renders, each from its offset, with headroom, through the limiter, into `target`."""
    gain = 1.0 / math.sqrt(len(parts))
    limiter = Limiter(ceiling=CEILING)
    chunks = -(-frames // CHUNK)
    try:
        with contextlib.ExitStack() as files, WavWriter(target.path, SAMPLE_RATE, CHANNELS, frames) as writer:
            renders = [_Render(files.enter_context(wav.open("rb")), part)
                       for wav, part in zip(wavs, parts, strict=True)]
            with progress.shown(chunks, f"mixing {target.target.name}", stream, "seconds") as advance:
                for start in range(0, frames, CHUNK):
                    mix = np.zeros((min(CHUNK, frames - start), CHANNELS))
                    for one in renders:
                        one.add_to(mix, start, gain)
                    writer.write(limiter.process(mix.reshape(-1, BLOCK, CHANNELS).transpose(0, 2, 1)))
                    advance()
    except OSError as error:
        raise UserError(f"cannot write {target.target}: {error.strerror or error}") from None


@contextlib.contextmanager
def _scratch(wav: PartialFile) -> Iterator[Path]:
    """A hidden folder for the laptops' renders until they are mixed, removed whatever happens
    (only `kill -9` leaves it, named after the output). Beside the output, on the disk that
    will hold the mix; for an output that is a device (/dev/null), in the temporary folder."""
    parent = None if wav.in_place else wav.path.parent
    folder = Path(tempfile.mkdtemp(prefix=f".{wav.target.name}.laptops-", dir=parent))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
