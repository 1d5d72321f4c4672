"""Journals: a performance recorded as JSON Lines, replayed exactly.

A header line, then one line per command with the phrase it landed on, its beat and the wall
time, and one line per phrase with a checksum of its attempts. Attempts are not stored: the
seed and the commands recompute them, and the checksums say where a replay would diverge. A
phrase played live also says the wall time it began (`start`), from the second phrase on (the
first is composed before the performance places beat 0): the journals of laptops that played
together line up by it. Older journals have none; nothing needs it to replay.

Writing: the file is created with the first line the performance gives it (a performance that
never starts, for want of an output, leaves no file), then appended a whole line at a time, so a
killed recording keeps every line it finished. A write that fails (a full disk, a file-size
limit) never reaches the music: the bytes of the line it tore are cut off again, the performer
is told once, and the file keeps every complete line. (CPython ignores SIGXFSZ from start-up, so
a write over `ulimit -f` fails with EFBIG, as one on a full disk fails with ENOSPC.)

Reading keeps what is good: a torn last line, garbage appended, or a damaged line in the middle
ends the journal at the line before it, with one warning naming that line and the phrases kept.
Only a bad header (no seed to replay with) refuses the file. A checksum sums up a phrase's
attempts, not its line: damage the reader cannot see (a command or a checksum changed into
another valid one) shows up when the replay's attempts differ, said once at the first phrase
that differs; the replay plays on (see `sources.journal_source`).
"""

from ensemble.performance.journal.form import BOM, FORMAT, KIND, checksum, default_path
from ensemble.performance.journal.reader import Journal, read_journal
from ensemble.performance.journal.recorder import Recorder
from ensemble.performance.journal.writer import JournalWriter

__all__ = ["BOM", "FORMAT", "KIND", "Journal", "JournalWriter", "Recorder", "checksum", "default_path",
           "read_journal"]
