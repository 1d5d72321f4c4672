"""Thousands of random lines: nothing but a UserError ever leaves the command layer."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ensemble import commands as cmd
from ensemble.errors import UserError
from ensemble.session import Session

WORDS = [*cmd.COMMANDS, "all", "seed", "a0", "a1", "a9", "C4", "F#3", "Bb5", "_", "61", "0", "-1", "1e9",
         "nan", "alpha=0.5", "alpha=2", "palette=major:C4-C6", "palette=x", "voice=tri", "epsilon=", "=",
         "on", "off", "add", "remove", "glicol", "sc:127.0.0.1:57110", "midi:x", "#", "étude", "\x00"]
lines = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(WORDS), max_size=6).map(" ".join),
    st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=8)), max_size=5).map(" ".join),
)


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines)
def test_parsing_any_line_raises_nothing_but_user_errors(line):
    try:
        cmd.parse_command(line)
    except UserError as error:
        assert str(error) and "\n" not in str(error)  # one line for the performer


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
