"""The real `ensemble` REPL in a pseudo-terminal, as a performer meets it: banner, Tab, quit."""

import os
import pty
import re
import resource
import select
import subprocess
import sys
import time

ESCAPES = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][A-Z0-9]|\x1b[=>]|\r")


class Terminal:
    def __init__(self, args, cwd, env):
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen([sys.executable, "-m", "ensemble", *args], stdin=slave, stdout=slave,
                                        stderr=slave, cwd=cwd, env=env, close_fds=True)
        os.close(slave)
        self.screen = b""

    def expect(self, text, timeout=20.0, times=1):
        """Read until `text` has been shown (escape sequences removed) `times` times in all; fail
        after `timeout`."""
        deadline = time.monotonic() + timeout
        while self.shown().count(text) < times:
            left = deadline - time.monotonic()
            assert left > 0, f"never showed {text!r} {times}x; the screen: {self.shown()[-800:]!r}"
            ready, _, _ = select.select([self.master], [], [], min(left, 0.2))
            if ready:
                try:
                    self.screen += os.read(self.master, 65536)
                except OSError:  # the process ended and closed its side
                    break
        assert self.shown().count(text) >= times, f"never showed {text!r} {times}x"

    def wait(self, seconds):
        """Keep reading what is shown for `seconds`."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    self.screen += os.read(self.master, 65536)
                except OSError:
                    return

    def shown(self):
        """Everything shown so far, as text, without escape sequences."""
        return ESCAPES.sub(b"", self.screen).decode(errors="replace")

    def type(self, keys):
        os.write(self.master, keys.encode())

    def close(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        os.close(self.master)


def test_the_repl_in_a_terminal_greets_completes_with_one_tab_and_quits_cleanly(tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith("JACK_")}
    env.update(XDG_DATA_HOME=str(tmp_path), TERM="xterm", PROMPT_TOOLKIT_NO_CPR="1")
    # sc on a port where nothing listens: the REPL plays on, and nothing depends on a sound card
    terminal = Terminal(["--to", "sc:127.0.0.1:9"], tmp_path, env)
    try:
        terminal.expect("playing on sc: type `help` for commands, Ctrl-D to stop")
        terminal.expect("ensemble>")
        terminal.type("spa\t 1\r")  # one Tab completes the unique prefix
        terminal.expect("spawn 1: at phrase")
        terminal.type("seed D4 F#4 A4  # sharps\r")
        terminal.expect("seed D4 F#4 A4: at phrase")
        terminal.type("sett a1 epsilon=0.2\r")
        terminal.expect("unknown command 'sett' (did you mean 'set'?)")
        terminal.type("muet a0\r")
        terminal.expect("unknown command 'muet' (did you mean 'mute'?)")
        terminal.type("set a0 epsilonn=0.2\r")
        terminal.expect("unknown setting 'epsilonn' (did you mean 'epsilon'?)")
        terminal.type("help set\r")
        terminal.expect("alpha: a number from 0 to 1 (default 0.5)")
        terminal.type("quit\r")
        terminal.expect("stopping: all notes off")
        assert terminal.process.wait(timeout=20) == 0
        assert b"Traceback" not in terminal.screen
    finally:
        terminal.close()


def test_without_a_sound_card_the_repl_stays_up_says_so_once_and_takes_another_output(tmp_path):
    import pytest

    env = {key: value for key, value in os.environ.items() if not key.startswith("JACK_")}
    env.update(XDG_DATA_HOME=str(tmp_path), TERM="xterm", PROMPT_TOOLKIT_NO_CPR="1")
    terminal = Terminal([], tmp_path, env)  # the default: Glicol on the sound card
    try:
        terminal.expect("ensemble>")
        try:
            terminal.expect("no output could be opened: playing on in silence", timeout=10)
        except AssertionError:
            if os.environ.get("CI"):  # CI machines have none: there, this must be tested for real
                raise
            pytest.skip("this machine has a sound card: the REPL played on it")
        terminal.type("spawn 2\r")
        terminal.expect("spawn 2: at phrase")
        terminal.type("out add sc:127.0.0.1:9\r")
        terminal.expect("out add sc:127.0.0.1:9: from the next phrase")
        terminal.expect("sc: no server at 127.0.0.1:9 yet")  # the new output opened and plays on
        assert terminal.process.poll() is None  # still up, still taking commands
        screen = ESCAPES.sub(b"", terminal.screen).decode(errors="replace")
        assert screen.count("no output could be opened") == 1
        terminal.type("\x04")  # Ctrl-D
        assert terminal.process.wait(timeout=20) == 0
    finally:
        terminal.close()


def test_when_the_history_file_cannot_grow_every_line_still_counts_and_it_is_said_once(tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith("JACK_")}
    env.update(XDG_DATA_HOME=str(tmp_path), TERM="xterm", PROMPT_TOOLKIT_NO_CPR="1")
    history = tmp_path / "ensemble" / "history"
    terminal = Terminal(["--to", "sc:127.0.0.1:9"], tmp_path, env)
    try:
        terminal.expect("ensemble>")
        terminal.type("spawn 1\r")
        terminal.expect("spawn 1: at phrase")
        assert "+spawn 1\n" in history.read_text()  # saved while the disk has room
        kept = history.read_bytes()
        # `ulimit -f 0` for the REPL from now on: every write to a file fails (EFBIG; Python
        # ignores SIGXFSZ), as on a full disk.
        _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.prlimit(terminal.process.pid, resource.RLIMIT_FSIZE, (0, hard))
        terminal.type("spawn 2\r")  # not the last line again: prompt_toolkit would not store that
        terminal.expect("spawn 2: at phrase")
        terminal.expect("history no longer saved (")
        terminal.type("voice a1 tri\r")
        terminal.expect("voice a1 tri: ")
        deadline = time.monotonic() + 20  # until the table shows both: a1 came, and sounds tri
        while not re.search(r"^a1 .*voice=tri", terminal.shown(), re.MULTILINE):
            assert time.monotonic() < deadline, f"status never changed: {terminal.shown()[-800:]!r}"
            terminal.type("status\r")
            terminal.wait(1.0)
        terminal.type("\x1b[A\x1b[A\r")  # the up arrow, twice: `voice a1 tri` again, from memory
        terminal.expect("voice a1 tri: ", times=2)
        terminal.type("quit\r")
        terminal.expect("stopping: all notes off")
        assert terminal.process.wait(timeout=20) == 0
        screen = terminal.shown()
        assert screen.count("history no longer saved") == 1
        assert not any(word in screen for word in ("Traceback", "Unhandled exception", "Press ENTER"))
        assert history.read_bytes() == kept  # nothing more reached the file, nor was it damaged
    finally:
        terminal.close()
