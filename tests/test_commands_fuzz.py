"""Properties of the command language, over thousands of generated lines and commands:

- whatever is typed or read (text, bytes decoded leniently, numbers at every edge) gives a
  command, nothing, or one clear line: a UserError, printable, cut short;
- every command, generated from the catalogue, prints with str() to text that parses back to
  the same command (the journal depends on it), and so does every command parsed from any line.
"""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ensemble import commands as cmd
from ensemble.commands.kinds import (
    SETTINGS,
    AgentRef,
    Choice,
    CommandName,
    Destination,
    FilePath,
    Notes,
    Number,
    NumberOr,
    PeerAddress,
    Settings,
    Switch,
)
from ensemble.errors import UserError
from ensemble.melody import HIGHEST_NOTE, LOWEST_NOTE, REST, SCALES, Melody, Palette, parse_note
from ensemble.rhythm import MAX_TICKS, STEP, length_text
from ensemble.session import Session

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LONGEST_MESSAGE = 600  # characters: whatever was typed, the answer is one short line
PLACES = (cmd.Where.SCRIPT, cmd.Where.JOURNAL, cmd.Where.REPL)

WORDS = [*cmd.COMMANDS, "all", "seed", "a0", "a1", "a9", "C4", "F#3", "Bb5", "_", "61", "0", "-1", "1e9",
         "nan", "alpha=0.5", "alpha=2", "palette=major:C4-C6", "palette=x", "voice=tri", "epsilon=", "=",
         "on", "off", "add", "remove", "glicol", "sc:127.0.0.1:57110", "midi:x", "#", "étude", "\x00"]

# Numbers as they may be typed or pasted: every edge Python's int() and float() have an opinion on.
EDGE_NUMBERS = ["0", "-0", "+0", "-0.0", "00", "007", "1", "-1", "64", "65", "400", "400.0000001", "19.999",
                "1e2", "1E2", "1e309", "-1e309", "1e-400", "5e-324", "nan", "-nan", "NaN", "inf", "-inf",
                "Infinity", "infinity", "0x10", "0b1", "0o7", "1_000", "1__0", "_1", "1_", "1.5", ".5", "5.",
                ".", "-", "+", "e5", "1e", "1.2.3",
                "\u0661\u0662", "\u0666\u0660", "\u0663.\u0665",  # Arabic-Indic digits: int() reads them
                "\u00b2", "\u00bd", "\u216b",  # superscript two, one half, Roman twelve: digits, not decimals
                "\U0001d7d9\U0001d7da", "\uff11\uff12",  # double-struck and full-width 12
                "9" * 4301, "1" + "0" * 400, "-" + "9" * 5000, "0" * 10_000 + "1", "1" * 1_000_000]
numbers = st.one_of(
    st.sampled_from(EDGE_NUMBERS),
    st.integers().map(str),
    st.integers(min_value=-10**400, max_value=10**400).map(str),
    st.floats().map(repr),
    st.floats().map(lambda x: f"{x:g}"),
    st.from_regex(r"[-+]?[0-9_]{0,12}(\.[0-9_]{0,6})?([eE][-+]?[0-9]{1,4})?", fullmatch=True),
    st.text(st.characters(categories=["Nd", "No", "Nl"]), min_size=1, max_size=6),
)
# Where a number goes: in every command, setting and note that reads one.
NUMBER_LINES = ["spawn {}", "tempo {}", "step {}", "wait {}", "train a0 {}", "set a0 alpha={}",
                "set all practice={}", "set a1 cutoff={}", "set a0 channel={}", "set a0 rests={}", "seed {}",
                "seed C4 {} _", "seed C{}", "seed F#{}", "seed Bb{}", "set all palette=major:C4-C{}",
                "set a0 palette=chromatic:{}-C5", "out add sc:127.0.0.1:{}", "out add sc:{}",
                "follow a{} seed", "mute a{}", "record on {}", "help {}"]

lines = st.one_of(
    st.text(max_size=60),
    st.binary(max_size=80).map(lambda raw: raw.decode("utf-8", errors="replace")),
    st.binary(max_size=80).map(lambda raw: raw.decode("utf-8", errors="surrogateescape")),
    st.binary(max_size=80).map(lambda raw: raw.decode("latin-1")),
    st.lists(st.sampled_from(WORDS), max_size=6).map(" ".join),
    st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=8), numbers), max_size=5).map(" ".join),
    st.tuples(st.sampled_from(NUMBER_LINES), numbers).map(lambda pair: pair[0].format(pair[1])),
)


def check_any_line(line: str, where: cmd.Where) -> None:
    """A command (which prints back to itself), nothing, or one short printable line."""
    try:
        command = cmd.parse_command(line, where)
    except UserError as error:
        message = str(error)
        assert message and message.isprintable(), repr(message)  # one line, no control characters
        assert len(message) <= LONGEST_MESSAGE, f"{len(message)} characters: {message[:200]!r}"
        return
    if command is not None:  # taken: shown back and journaled as text that reads back to it
        assert str(command).isprintable(), repr(str(command))
        assert cmd.parse_command(str(command), where) == command, (line, str(command))


@FAST
@given(lines, st.sampled_from(PLACES))
def test_any_line_gives_a_command_nothing_or_one_clear_line(line, where):
    check_any_line(line, where)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(NUMBER_LINES), numbers, st.sampled_from(PLACES))
def test_numbers_at_every_edge_give_a_command_or_one_clear_line(template, number, where):
    check_any_line(template.format(number), where)


def test_every_edge_number_in_every_place_that_reads_one():
    for template in NUMBER_LINES:
        for number in EDGE_NUMBERS:
            check_any_line(template.format(number), cmd.Where.SCRIPT)
            check_any_line(template.format(number), cmd.Where.REPL)


# -- every command of the catalogue, generated, prints back to itself ---------------------------

NATURALS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def spellings(note: int) -> list[str]:
    """Every way to write a note: its MIDI number, and each name with a sharp, a flat or neither
    (E#4 and Fb4 too), in either case."""
    names = []
    for letter, natural in NATURALS.items():
        for accidental, shift in (("", 0), ("#", 1), ("b", -1)):
            octave, off = divmod(note - natural - shift, 12)
            if off == 0 and -1 <= octave - 1 <= 9:
                names += [f"{letter}{accidental}{octave - 1}", f"{letter.lower()}{accidental}{octave - 1}"]
    return [str(note), *names]


def written(note: int) -> st.SearchStrategy[str]:
    return st.sampled_from(spellings(note))


notes = st.integers(LOWEST_NOTE, HIGHEST_NOTE)
note_words = st.one_of(notes.flatmap(written), st.just("_"))


def palettes() -> st.SearchStrategy[str]:
    ends = st.tuples(notes, notes).map(sorted).flatmap(
        lambda pair: st.tuples(written(pair[0]), written(pair[1])))
    return st.tuples(st.sampled_from(list(SCALES)), ends).map(lambda s: f"{s[0]}:{s[1][0]}-{s[1][1]}")


def setting_values(key: str) -> st.SearchStrategy[str]:
    """Text a setting accepts, from its own declaration: its choices, or numbers in its range."""
    spec = SETTINGS[key]
    if spec.choices:
        return st.sampled_from(spec.choices)
    if spec.numbers is None:  # the one setting that is neither: the palette
        return palettes()
    kind, low, high = spec.numbers
    if kind is int:
        return st.integers(int(low), int(high)).map(str)
    values = st.floats(low, high, allow_nan=False)
    return st.one_of(values.map(repr), values.map(lambda x: f"{x:g}")).filter(accepted(key))


def accepted(key: str):
    def check(text: str) -> bool:
        try:
            SETTINGS[key].parse(text)
        except ValueError:
            return False
        return True

    return check


changes = st.lists(st.sampled_from(list(SETTINGS)), min_size=1, max_size=5, unique=True).flatmap(
    lambda keys: st.fixed_dictionaries({key: setting_values(key) for key in keys}))
file_names = st.text(st.characters(exclude_categories=["C", "Z"]), min_size=1, max_size=40).filter(
    lambda name: not name.startswith("#"))
hosts = st.one_of(st.from_regex(r"[a-z0-9][a-z0-9.-]{0,20}", fullmatch=True),
                  st.ip_addresses(v=4).map(str))
destinations = st.one_of(
    st.sampled_from(["glicol", "sc", "midi"]),
    st.tuples(hosts, st.integers(1, 65535)).map(lambda address: f"sc:{address[0]}:{address[1]}"),
    file_names.map(lambda name: f"midi:{name}"),
)


def values_of(kind) -> st.SearchStrategy:
    """What an argument of this kind may hold, from the kind's own declaration."""
    if isinstance(kind, AgentRef):
        names = st.from_regex(r"a[0-9]{1,4}", fullmatch=True)
        if kind.outside:  # an agent on another laptop: alice/a3
            names = st.one_of(names, st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}/a(0|[1-9][0-9]{0,2})",
                                                   fullmatch=True))
        extra = ["all"] * kind.everyone + ["seed"] * kind.seed
        return st.one_of(names, st.sampled_from(extra)) if extra else names
    if isinstance(kind, Number):
        if kind.whole:
            return st.integers(int(kind.low), int(kind.high))
        return st.floats(kind.low, kind.high, allow_nan=False)
    if isinstance(kind, NumberOr):
        return st.one_of(values_of(kind.number), st.sampled_from(kind.words))
    if isinstance(kind, Choice):
        return st.sampled_from(kind.options)
    if isinstance(kind, Switch):
        return st.booleans()
    if isinstance(kind, FilePath):
        return file_names
    if isinstance(kind, CommandName):
        return st.sampled_from(kind.names())
    if isinstance(kind, Destination):
        return destinations
    if isinstance(kind, PeerAddress):
        hosts = st.one_of(st.from_regex(r"[a-z0-9]([a-z0-9.-]{0,20}[a-z0-9])?", fullmatch=True),
                          st.ip_addresses(v=4).map(str))
        return st.tuples(hosts, st.integers(1, 65535)).map(lambda pair: f"{pair[0]}:{pair[1]}")
    if isinstance(kind, Notes):
        steps = st.one_of(st.integers(LOWEST_NOTE, HIGHEST_NOTE), st.just(REST))
        lengths = st.one_of(st.just(STEP), st.integers(1, MAX_TICKS))  # a step, or a length of its own
        return st.lists(st.tuples(steps, lengths), min_size=1, max_size=12).map(
            lambda pairs: Melody(tuple(note for note, _ in pairs), tuple(length for _, length in pairs)))
    if isinstance(kind, Settings):
        return changes
    raise AssertionError(f"no strategy for {kind!r}: a new kind of argument needs one here")


def built(declared, values):
    try:
        return declared(**values)
    except UserError:  # a combination the command itself refuses (record off FILE)
        return None


def commands_of(declared) -> st.SearchStrategy:
    arguments = {argument.name: values_of(argument.kind) if not argument.optional
                 else st.one_of(st.just(argument.default), values_of(argument.kind))
                 for argument in declared.args}
    return st.fixed_dictionaries(arguments).map(lambda values: built(declared, values)).filter(
        lambda command: command is not None)


every_command = st.sampled_from(list(cmd.COMMANDS.values())).flatmap(commands_of)


def allowed_in(command) -> cmd.Where:
    return next(place for place in PLACES if place & command.where)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(every_command)
def test_every_command_prints_to_text_that_parses_back_to_it(command):
    text = str(command)
    assert "\n" not in text
    assert cmd.parse_command(text, allowed_in(command)) == command, text


def test_the_generator_knows_every_command_and_every_kind_of_argument():
    for declared in cmd.COMMANDS.values():
        for argument in declared.args:
            values_of(argument.kind)  # raises for a kind it does not know


@FAST
@given(st.lists(st.tuples(note_words, st.one_of(st.just(""), st.integers(1, MAX_TICKS).map(
    lambda ticks: ":" + length_text(ticks)))).map("".join), min_size=1, max_size=12))
def test_melodies_written_any_way_print_back_as_the_same_notes(words):
    command = cmd.parse_command("seed " + " ".join(words))
    assert cmd.parse_command(str(command)) == command
    written_notes = [parse_note(word.partition(":")[0]) for word in words]
    assert written_notes == list(command.melody.notes)


def test_every_spelling_of_every_note_is_that_note():
    for note in range(LOWEST_NOTE, HIGHEST_NOTE + 1):
        assert {parse_note(word) for word in spellings(note)} == {note}
    assert spellings(61)[:5] == ["61", "C#4", "c#4", "Db4", "db4"] and "B#3" in spellings(60)


@FAST
@given(st.sampled_from(list(SCALES)), st.tuples(notes, notes).map(sorted))
def test_every_palette_prints_back_to_itself(scale, ends):
    palette = Palette(scale, *ends)  # as the session writes one into its advice (set a0 palette=...)
    assert Palette.parse(str(palette)) == palette


@FAST
@given(st.floats(cmd.Tempo.args[0].kind.low, cmd.Tempo.args[0].kind.high, allow_nan=False))
def test_any_tempo_survives_the_journal_exactly(bpm):
    printed = str(cmd.Tempo(bpm))
    assert cmd.parse_command(printed) == cmd.Tempo(bpm)
    assert float(printed.split()[1]) == bpm


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.sampled_from(WORDS), min_size=1, max_size=5).map(" ".join), max_size=12))
def test_applying_any_commands_to_a_running_session_raises_nothing_but_user_errors(typed):
    session = Session(seed=0)
    session.submit(cmd.Spawn(2))
    for line in typed:
        try:
            command = cmd.parse_command(line)
        except UserError:
            continue
        if command is None or not command.where & cmd.Where.JOURNAL:  # the REPL's own: not the session's
            continue
        session.submit(command)
        session.next_phrase()  # bad commands become messages; the performance goes on
    assert session.next_phrase() is not None
