import re

import pytest

from ensemble import commands as cmd
from ensemble.errors import UserError
from ensemble.melody import Melody
from ensemble.performance.script import parse_script


def test_each_command_parses():
    assert cmd.parse_command("seed C4 E4 G4") == cmd.Seed(Melody((60, 64, 67)))
    assert cmd.parse_command("spawn") == cmd.Spawn(1)
    assert cmd.parse_command("spawn 3") == cmd.Spawn(3)
    expected = cmd.Set("all", {"alpha": "0.2", "epsilon": "0"})
    assert cmd.parse_command("set all alpha=0.2 epsilon=0") == expected
    assert cmd.parse_command("tempo 96.5") == cmd.Tempo(96.5)
    assert cmd.parse_command("step 0.25") == cmd.Step(0.25)
    assert cmd.parse_command("wait 4  # four phrases", cmd.Where.SCRIPT) == cmd.Wait(4)


@pytest.mark.parametrize("line", ["", "   ", "# a comment", "  # indented comment"])
def test_blank_lines_and_comments_are_nothing(line):
    assert cmd.parse_command(line) is None


@pytest.mark.parametrize("line", ["seed C4 E4 G4", "spawn 2", "set a0 alpha=0.3 reward=near", "tempo 140",
                                  "step 0.5", "wait 3"])
def test_commands_print_back_as_they_parse(line):
    assert str(cmd.parse_command(line, cmd.Where.SCRIPT)) == line


@pytest.mark.parametrize(("line", "message"), [
    ("sede C4", "did you mean 'seed'"),
    ("dance", "unknown command 'dance'"),
    ("seed", "usage: seed"),
    ("seed C4 Q4", "step 2: 'Q4'"),
    ("spawn 0", "from 1 to 64"),
    ("spawn two", "whole number"),
    ("set a0", "usage: set"),
    ("set a0 alpha", "is not KEY=VALUE"),
    ("set a0 alpha=2", "allowed: a number from 0 to 1"),
    ("set all speed=3", "unknown setting 'speed'"),
    ("set a0 palette=majr:C4-C5", "unknown scale 'majr' \\(did you mean 'major'\\?\\)"),
    ("set a0 reward=neer", "did you mean 'near'"),
    ("set a1 epsilonn=0.2", "unknown setting 'epsilonn' \\(did you mean 'epsilon'\\?\\)"),
    ("tempo 1000", "BPM must be a number from 20 to 400"),
    ("step 0", "BEATS must be a number"),
    ("wait", "usage: wait N"),
])
def test_bad_lines_say_why(line, message):
    with pytest.raises(UserError, match=message):
        cmd.parse_command(line, cmd.Where.SCRIPT)


def test_a_script_reports_file_and_line():
    text = "seed C4 E4\nspawn 2\n\nset a0 alpha=9\nwait 2\n"
    with pytest.raises(UserError, match=r"^show\.ens:4: alpha=9: allowed"):
        parse_script(text, "show.ens")


def test_a_script_keeps_line_numbers():
    lines = parse_script("# intro\nseed C4\n\nwait 2\n", "x.ens")
    assert [(line.number, str(line.command)) for line in lines] == [(2, "seed C4"), (4, "wait 2")]


@pytest.mark.parametrize("line", ["kill a3", "mute all", "unmute a0", "solo a1", "follow a2 seed",
                                  "follow a2 a0", "voice all tri", "train a0 20", "forget all",
                                  "out add sc:127.0.0.1:57110",
                                  "out remove glicol", "record on perf.jsonl", "record off", "status", "help",
                                  "help set", "quit"])
def test_stage_and_steering_commands_print_back_as_they_parse(line):
    assert str(cmd.parse_command(line)) == line


@pytest.mark.parametrize(("line", "message"), [
    ("kill", "usage: kill AGENT"),
    ("kill bob", "'bob' is not an agent name"),
    ("follow a1", "usage: follow AGENT TARGET"),
    ("voice a0 banjo", "voice=banjo: allowed: saw | square | tri"),
    ("train a0 0", "N must be a whole number from 1 to 1000"),
    ("out plug sc", "usage: out add|remove"),
    ("record maybe", "'maybe' is not on or off"),
    ("record off x.jsonl", "usage: record on"),
    ("out add tape", "unknown output 'tape'"),
    ("out add sc:nowhere", "write sc, or sc:HOST:PORT"),
    ("wait 3", "'wait' is for scripts; here every command lands on the next phrase anyway"),
    ("muet a0", "did you mean 'mute'"),
    ("sett a1 epsilon=0.2", "did you mean 'set'"),
    ("help dnace", "did you mean 'dance'|no command 'dnace'"),
    ("sollo a1", "did you mean 'solo'"),
])
def test_bad_stage_and_steering_lines_say_why(line, message):
    with pytest.raises(UserError, match=message):
        cmd.parse_command(line)


def test_help_and_usage_come_from_the_declaration():
    assert cmd.Spawn.usage() == "spawn [N] [follow TARGET]"
    assert cmd.Set.usage() == "set AGENT|all KEY=VALUE ..."
    assert cmd.Seed.usage() == "seed NOTE ..."
    assert cmd.Follow.help_line().startswith("follow AGENT TARGET ")
    assert all(declared.help for declared in cmd.COMMANDS.values())


@pytest.mark.parametrize("line", ["status", "quit", "record on", "out add sc", "help"])
def test_a_script_refuses_repl_commands_at_parse_time_with_file_and_line(line):
    expected = rf"^show\.ens:2: '{line.split()[0]}' is for the REPL; scripts cannot use it"
    with pytest.raises(UserError, match=expected):
        parse_script(f"spawn 1\n{line}\nwait 1\n", "show.ens")


def test_a_command_names_the_agents_it_refers_to():
    assert cmd.parse_command("follow a2 seed").agents() == ["a2"]
    assert cmd.parse_command("follow a2 a0").agents() == ["a2", "a0"]
    assert cmd.parse_command("set all alpha=1").agents() == []
    assert cmd.parse_command("kill a7").agents() == ["a7"]


HUGE = "x" * 1_000_000


@pytest.mark.parametrize("line", [
    HUGE, f"seed C4 {HUGE}", f"seed C{'9' * 1_000_000}", f"seed {'9' * 1_000_000}", f"spawn {HUGE}",
    f"tempo {'9' * 1_000_000}", f"set a0 {HUGE}", f"set a0 {HUGE}=1", f"set a0 alpha={HUGE}",
    f"set a0 palette=major:C4-{HUGE}", f"set a0 palette={HUGE}", f"mute {HUGE}", f"voice a0 {HUGE}",
    f"follow a0 {HUGE}", f"out add {HUGE}", f"out add sc:127.0.0.1:{'9' * 1_000_000}", f"record {HUGE}",
    f"record on {HUGE}", f"load {HUGE}", f"help {HUGE}", f"wait {HUGE}", f"out add midi:{HUGE}",
    f"set a0 alpha=0.{'0' * 1_000_000}1",  # a number, but no setting's value is a megabyte long
])
def test_a_pasted_megabyte_anywhere_is_refused_in_one_short_line_that_says_how_long_it_was(line):
    with pytest.raises(UserError) as refused:
        cmd.parse_command(line, cmd.Where.SCRIPT if line.startswith("wait") else cmd.Where.REPL)
    message = str(refused.value)
    assert len(message) < 400 and message.isprintable()
    assert re.search(r"… \(10000\d\d characters\)", message)  # the word, or KEY=VALUE, cut short


@pytest.mark.parametrize(("line", "shown"), [
    ("mute \x1b[31ma0", r"'\x1b[31ma0' is not an agent name"),
    ("sede\x07", r"unknown command 'sede\x07'"),
    ("seed C4 E\x1b4", r"step 2: 'E\x1b4' is not a note"),
    ("set a0 alpha=1\x1b", r"alpha=1\x1b: allowed"),
    ("voice a0 tri\x9b", r"'tri\x9b' is not one of"),
    ("record on a\x1b]0;x\x07", r"'a\x1b]0;x\x07' is not a file name here"),
    ("out add sc:\x1b[2J", r"'sc:\x1b[2J' is not an output"),
    ("out add midi:\x1b[2J", r"'midi:\x1b[2J' is not an output"),  # no port is named so
    ("help \x1bq", r"no command '\x1bq'"),
])
def test_control_characters_typed_are_shown_escaped_never_sent_to_the_terminal(line, shown):
    with pytest.raises(UserError) as refused:
        cmd.parse_command(line)
    assert shown in str(refused.value) and str(refused.value).isprintable()


def test_a_bad_line_in_a_script_still_names_file_and_line_and_cuts_the_word_short():
    text = f"seed C4\nspawn 1\nmute {HUGE}\n"
    expected = r"^show\.ens:3: 'x{60}… \(1000000 characters\)' is not an agent name"
    with pytest.raises(UserError, match=expected):
        parse_script(text, "show.ens")


@pytest.mark.parametrize(("line", "message"), [
    ("seed \u00b2", "'\u00b2' is not a note"),  # a superscript two: a digit to isdigit(), not to int()
    ("seed C\u00b2", "is not a note"),
    (f"seed {'0' * 5000}61", None),  # leading zeros only: MIDI 61
    ("seed C99999", "is outside MIDI 1..127"),
    ("out add sc:127.0.0.1:\u00b2", "is not an output"),
    ("set a0 alpha=xyz", "^alpha=xyz: allowed: a number from 0 to 1$"),  # not Python's own wording
])
def test_numbers_python_reads_its_own_way_give_one_clear_line(line, message):
    if message is None:
        assert cmd.parse_command(line) == cmd.Seed(Melody((61,)))
        return
    with pytest.raises(UserError, match=message):
        cmd.parse_command(line)


@pytest.mark.parametrize("bpm", [96.123456789, 20.000000000000004, 120.5, 400.0, 1 / 3 * 100])
def test_a_tempo_prints_every_digit_it_needs_to_read_back_the_same(bpm):
    assert cmd.parse_command(str(cmd.Tempo(bpm))) == cmd.Tempo(bpm)
    assert str(cmd.Tempo(120.0)) == "tempo 120" and str(cmd.Tempo(96.5)) == "tempo 96.5"  # as before


def test_a_palette_from_the_lowest_note_reads_back():
    # C#-1 is MIDI 1, the lowest playable: its octave's minus sign is not the range's dash.
    assert str(cmd.parse_command("set a0 palette=chromatic:C#-1-C4")) == "set a0 palette=chromatic:C#-1-C4"
    assert str(cmd.parse_command("set a0 palette=major:1-60")) == "set a0 palette=major:1-60"
    with pytest.raises(UserError, match="needs a range"):
        cmd.parse_command("set a0 palette=major:C#-1")
