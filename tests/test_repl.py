"""The stage REPL, driven through prompt_toolkit's pipe input, on a clock the test moves."""

import threading
import time

import pytest
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from support.listener import Listener

from ensemble import commands as cmd
from ensemble.clock import ManualClock
from ensemble.repl import CommandCompleter, run_repl
from ensemble.stage import Stage

PHRASE = 1.25  # seconds: the default seed (5 steps of half a beat) at 120 bpm




class Performer:
    """Types into the real REPL and moves the clock, phrase by phrase."""

    def __init__(self, tmp_path, outputs=None, history=None):
        self.clock = ManualClock()
        self.listener = Listener()
        self.stage = Stage([self.listener] if outputs is None else outputs, self.clock, lookahead=0.1)
        self.replies = []
        typed = self.stage.type
        self.stage.type = lambda line: self.replies.append(typed(line)) or self.replies[-1]
        self._input_cm = create_pipe_input()
        self.input = self._input_cm.__enter__()
        self.thread = threading.Thread(target=run_repl, args=(self.stage,),
                                       kwargs={"input": self.input, "output": DummyOutput(),
                                               "history": history or tmp_path / "history"})
        self.thread.start()

    def type(self, text, replies=1):
        expected = len(self.replies) + replies
        self.input.send_text(text)
        deadline = time.monotonic() + 5
        while len(self.replies) < expected and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.replies[-1] if self.replies else None

    def play(self, phrases):
        """Let `phrases` phrases pass; returns once the conductor has handed them over."""
        target = len(self.listener.phrases) + phrases
        deadline = time.monotonic() + 10
        while len(self.listener.phrases) < target and time.monotonic() < deadline:
            self.clock.advance(0.05)
            time.sleep(0.002)

    def quit(self, keys="\x04"):
        self.input.send_text(keys)
        self.thread.join(timeout=10)
        self._input_cm.__exit__(None, None, None)


@pytest.fixture
def performer(tmp_path):
    performer = Performer(tmp_path)
    performer.play(2)
    yield performer
    if performer.thread.is_alive():
        performer.quit()


def test_commands_land_on_the_phrase_the_repl_announces(performer):
    reply = performer.type("spawn 2\r")
    announced = int(reply.split("at phrase ")[1].split(",")[0])
    performer.play(4)
    first_heard = next(p.index for p in performer.listener.phrases if p.parts) + 1
    assert first_heard == announced
    assert [part.agent for part in performer.listener.phrases[-1].parts] == ["a0", "a1"]


def test_every_change_lands_exactly_on_a_phrase_boundary(performer):
    performer.type("spawn 1\r")
    performer.play(2)
    reply = performer.type("tempo 60\r")
    announced = int(reply.split("at phrase ")[1].split(",")[0])
    performer.play(3)
    tempos = {p.index + 1: p.tempo for p in performer.listener.phrases}
    assert tempos[announced - 1] == 120 and tempos[announced] == 60


def test_completion_finishes_a_command(performer):
    for keys in ("spa", "\t"):  # Tab completes `spa` to `spawn`
        performer.input.send_text(keys)
        time.sleep(0.3)  # as a person types: the completer answers asynchronously
    performer.type(" 3\r")
    assert performer.replies[-1].startswith("spawn 3: at phrase")


def test_the_completer_knows_agents_keys_values_and_voices():
    outputs = ("glicol", "sc", "sc:HOST:PORT", "midi", "midi:synth:in")
    completer = CommandCompleter(lambda: cmd.Context(("a0", "a1"), outputs))

    def words(text):
        from prompt_toolkit.completion import CompleteEvent
        from prompt_toolkit.document import Document

        return [c.text for c in completer.get_completions(Document(text), CompleteEvent())]

    assert "spawn" in words("sp")
    assert words("mute ") == ["a0", "a1", "all"]
    assert words("solo ") == ["a0", "a1"]
    assert words("follow a1 ") == ["a0", "a1", "seed"]
    assert words("se") == ["seed", "set"] and words("seed ") == ["midi"]  # `seed midi`: two words
    assert words("seed midi ")[:2] == ["follow", "off"] and words("link ") == ["on", "off"]
    assert "alpha=" in words("set a0 ") and "epsilon_decay=" in words("set a0 eps")
    assert words("set a0 reward=") == ["reward=exact", "reward=near", "reward=pitchclass", "reward=listen"]
    assert "palette=major:" in words("set all palette=")
    assert "rhythm=" in words("set a0 rhy")
    assert words("set a0 rhythm=") == ["rhythm=step", "rhythm=0.5,1", "rhythm=0.25,0.5,1", "rhythm=0.5,1,2",
                                       "rhythm=0.25,0.5,0.75,1,1.5,2"]
    assert words("voice a0 ") == ["saw", "square", "tri"]
    assert "midi:synth:in" in words("out add ")


def test_the_toolbar_shows_tempo_phrase_and_every_agent(performer):
    performer.type("spawn 3\r")
    performer.play(3)
    toolbar = performer.stage.toolbar()
    assert toolbar.startswith("120 bpm | phrase ")
    assert all(f"a{k} " in toolbar for k in range(3)) and " e0." in toolbar


def test_a_long_session_with_bad_input_keeps_the_music_going(performer):
    lines = ["spawn 2", "set a0 alpha=7", "sollo a1", "mute a9", "follow a1 a1", "tempo fast", "seed C4 Q4",
             "voice a0 banjo", "set a1 palette=major:C4-C6", "out remove nowhere", "record maybe",
             "train a0 5", "solo a1", "unmute all", "kill a0", "follow a1 seed", "", "help", "status"]
    for line in lines:
        reply = performer.type(line + "\r")
        assert reply is not None and "Traceback" not in reply
        performer.play(1)
    assert "did you mean 'solo'" in performer.replies[2]
    assert performer.replies[3].startswith("no agent 'a9'")
    assert performer.stage.conductor.phrases_played >= len(lines)
    assert [part.agent for part in performer.listener.phrases[-1].parts] == ["a1"]
    assert performer.thread.is_alive()


def test_ctrl_c_clears_the_line_and_ctrl_d_stops_cleanly(performer):
    performer.input.send_text("spawn 9")
    performer.input.send_text("\x03")  # Ctrl-C: the line is dropped, nothing typed reaches the stage
    performer.type("spawn 1\r")
    assert performer.replies == [performer.replies[-1]] and performer.replies[-1].startswith("spawn 1:")
    performer.quit("\x04")  # Ctrl-D
    assert not performer.thread.is_alive() and performer.listener.closed


def test_quit_stops_cleanly(performer):
    performer.type("quit\r")
    performer.thread.join(timeout=10)
    assert not performer.thread.is_alive() and performer.listener.closed


def test_outputs_can_be_added_and_removed_mid_performance(tmp_path):
    extra = Listener()
    extra.name = "sc"
    performer = Performer(tmp_path)
    performer.stage.make_output = lambda spec: extra
    performer.play(1)
    assert performer.type("out add sc\r") == "out add sc: from the next phrase"
    performer.play(3)
    assert extra.phrases
    assert performer.type("out remove sc\r") == "out remove sc: from the next phrase"
    performer.play(3)
    assert extra.closed
    heard = len(extra.phrases)
    performer.play(2)
    assert len(extra.phrases) == heard
    reply = performer.type("out remove midi\r")
    assert reply.startswith("no output 'midi' playing (playing: listener)")
    performer.quit()


def test_completion_shows_ranges_and_defaults():
    completer = CommandCompleter(lambda: cmd.Context(("a0",), ()))

    def offered(text):
        from prompt_toolkit.completion import CompleteEvent
        from prompt_toolkit.document import Document

        return [(c.text, c.display_text, c.display_meta_text)
                for c in completer.get_completions(Document(text), CompleteEvent())]

    assert offered("set a0 alpha=") == [("alpha=0.5", "alpha=0.5", "a number from 0 to 1 (default 0.5)")]
    assert ("reward=exact", "reward=exact", "default") in offered("set a0 reward=")
    assert offered("spawn ") == [("", "N: 1 to 64", "")]  # the range, where the number goes
    assert offered("tempo ") == [("", "BPM: 20 to 400", "")]


def test_sharps_typed_in_the_repl_are_notes(performer):
    assert performer.type("seed D4 F#4 A4 C#5  # a comment\r").startswith("seed D4 F#4 A4 C#5: at phrase")
    reply = performer.type("set all palette=chromatic:F#3-C#5\r")
    assert reply.startswith("set all palette=chromatic:F#3-C#5:")


def test_one_tab_completes_a_unique_prefix(performer):
    performer.type("spa\t 2\r")  # typed at once: no time for the menu to open
    assert performer.replies[-1].startswith("spawn 2: at phrase")


class NoDevice(Listener):
    """An output whose device is not there, as a sound card on a machine without one."""

    def open(self, clock):
        from ensemble.errors import UserError

        raise UserError("glicol: no audio device (Error querying device -1); try --to sc, --to midi")


def test_without_any_output_the_repl_stays_up_and_outputs_can_be_added(tmp_path):
    from support.messages import captured

    with captured() as messages:
        performer = Performer(tmp_path, outputs=[NoDevice()])
        try:
            for _ in range(50):  # two phrases pass in silence
                performer.clock.advance(0.05)
                time.sleep(0.002)
            assert performer.thread.is_alive()
            assert performer.type("spawn 1\r").startswith("spawn 1: at phrase")
            extra = Listener()
            extra.name = "sc"
            performer.stage.make_output = lambda spec: extra
            assert performer.type("out add sc\r") == "out add sc: from the next phrase"
            deadline = time.monotonic() + 10
            while not (extra.phrases and extra.phrases[-1].parts) and time.monotonic() < deadline:
                performer.clock.advance(0.05)
                time.sleep(0.002)
            assert extra.phrases and extra.phrases[-1].parts  # heard at last
            assert performer.thread.is_alive()
        finally:
            performer.quit()
    said = [m for m in messages if "no audio device" in m or "no output could be opened" in m]
    assert len(said) == 2  # what failed, once, and what to do
    assert not performer.thread.is_alive()


def test_a_mute_typed_mid_phrase_is_heard_within_the_lookahead(performer):
    performer.type("spawn 2\r")
    performer.play(3)
    for _ in range(10):  # into the phrase: 0.5 s of its 1.25 s
        performer.clock.advance(0.05)
        time.sleep(0.002)
    assert performer.type("mute a1\r") == "mute a1: now (heard within 0.1 s)"
    muted_at = performer.clock.now()
    performer.play(2)
    heard_after = [n.event.agent for n in performer.listener.notes if n.due > muted_at + 0.1 + 0.03]
    a1_after, a0_after = heard_after.count("a1"), heard_after.count("a0")
    assert a1_after == 0 and a0_after  # a1 silent from within the lookahead (and polling); a0 plays on
    assert performer.type("unmute a1\r") == "unmute a1: now (heard within 0.1 s)"
    unmuted_at = performer.clock.now()
    performer.play(2)
    assert [n for n in performer.listener.notes if n.event.agent == "a1" and n.due > unmuted_at + 0.13]


@pytest.mark.parametrize("where", ["under a file", "a directory"])
def test_a_history_that_cannot_be_kept_on_disk_is_kept_in_memory_said_once(tmp_path, where):
    from support.messages import captured

    (tmp_path / "a-file").write_text("")
    (tmp_path / "a-directory").mkdir()
    # Neither can be written, not even by root: a file cannot hold a directory, nor be one.
    history = tmp_path / "a-file" / "history" if where == "under a file" else tmp_path / "a-directory"
    with captured() as messages:
        performer = Performer(tmp_path, history=history)
        try:
            assert performer.type("spawn 2\r").startswith("spawn 2: at phrase")
            assert performer.type("voice a1 tri\r").startswith("voice a1 tri:")
            assert performer.type("mute a0\r").startswith("mute a0:")
            assert performer.type("\x1b[A\x1b[A\r").startswith("voice a1 tri:")  # the up arrow, twice
            performer.play(2)
            assert [part.agent for part in performer.listener.phrases[-1].parts] == ["a1"]
            assert performer.thread.is_alive()
        finally:
            performer.quit()
    said = [m for m in messages if "history" in m]
    assert len(said) == 1 and "\n" not in said[0]
    assert said[0].startswith("history no longer saved (") and str(history) in said[0]
    assert performer.replies[-1] == performer.replies[-3]
