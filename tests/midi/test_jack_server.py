"""Telling a running JACK server from a gone or restarted one, against a real jackd."""

import os
import signal
import time

from ensemble.midi.jack_server import SEND_BUDGET, ServerWatch, request_socket, running_server


def _until_gone(path, timeout=10.0):
    deadline = time.monotonic() + timeout
    while running_server(path) is not None:
        assert time.monotonic() < deadline, f"a server still answers at {path} after {timeout} s"
        time.sleep(0.02)


def test_a_server_is_known_by_its_socket_until_it_stops_and_a_restarted_one_is_another(jack_to_restart):
    path = request_socket(jack_to_restart.env)
    first = running_server(path)
    assert first is not None and running_server(path) == first
    jack_to_restart.stop()
    assert running_server(path) is None
    jack_to_restart.start()
    again = running_server(path)
    assert again is not None and again != first


def test_a_killed_server_leaves_its_socket_file_and_counts_as_gone(jack_to_restart):
    path = request_socket(jack_to_restart.env)
    assert running_server(path) is not None
    os.kill(jack_to_restart.process.pid, signal.SIGKILL)
    _until_gone(path)
    assert path.exists()  # the file outlives the server: only a connection tells
    jack_to_restart.stop()  # clears what the killed server left


def test_the_watch_knows_the_server_it_joined_and_not_its_successor(jack_to_restart):
    watch = ServerWatch(jack_to_restart.env)
    assert watch.name == jack_to_restart.name
    assert watch.join() and watch.still_joined()
    jack_to_restart.stop()
    jack_to_restart.start()
    assert not watch.still_joined()  # a server runs, but not the one our clients joined
    assert watch.join() and watch.still_joined()


def test_sending_stops_a_budget_after_the_server_was_last_seen(jack_to_restart):
    watch = ServerWatch(jack_to_restart.env)
    assert watch.join()
    assert all(watch.may_send() for _ in range(3 * SEND_BUDGET))  # running: it looks again and goes on
    jack_to_restart.stop()
    allowed = sum(watch.may_send() for _ in range(3 * SEND_BUDGET))
    assert allowed <= SEND_BUDGET  # at most what was left of the budget when it went

