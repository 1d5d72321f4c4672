"""The test servers themselves: a killed scsynth comes back on its port; failures show the log."""

import pytest
from support import services


def status(server):
    with server.client() as client:
        client.send("/status")
        return client.wait_for("/status.reply", timeout=0.5).params


def test_scsynth_can_be_killed_and_restarted_on_the_same_port(scsynth):
    port = scsynth.port
    assert status(scsynth)[0] == 1
    scsynth.stop()
    assert not scsynth.running
    with pytest.raises(TimeoutError):
        status(scsynth)
    scsynth.start()
    assert scsynth.port == port and scsynth.running
    assert status(scsynth)[2] == 0  # a fresh server: no synths


def test_a_failed_start_reports_the_servers_log(jack, tmp_path):  # jack: skips without the binaries
    stopped = services.Jack(directory=tmp_path / "jack")  # never started: scsynth finds no JACK
    stopped.dir.mkdir()
    server = services.Scsynth(stopped, directory=tmp_path)
    with pytest.raises(services.StartupError, match="scsynth exited") as failure:
        server.start()
    assert "jack server is not running" in str(failure.value)  # the tail of scsynth's log
