"""Node-id allocation for one client of a SuperCollider server; no server needed."""

import threading

import pytest
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from ensemble.supercollider.nodes import FIRST_ID, NodeIds


def reply(address: str, *args: int) -> OscMessage:
    builder = OscMessageBuilder(address)
    for arg in args:
        builder.add_arg(arg)
    return builder.build()


def test_ids_are_handed_out_in_order_from_the_first():
    nodes = NodeIds()
    assert [nodes.allocate() for _ in range(3)] == [FIRST_ID, FIRST_ID + 1, FIRST_ID + 2]


def test_a_freed_id_is_not_reused_before_the_round_comes_back_to_it():
    nodes = NodeIds(first=100, count=4)
    first = nodes.allocate()
    nodes.observe(reply("/n_end", first))
    assert [nodes.allocate() for _ in range(3)] == [101, 102, 103]
    assert nodes.allocate() == 100  # the round wrapped and 100 had ended


def test_the_round_skips_ids_that_are_still_alive():
    nodes = NodeIds(first=100, count=4)
    assert [nodes.allocate() for _ in range(4)] == [100, 101, 102, 103]
    nodes.observe(reply("/n_end", 102))
    assert nodes.allocate() == 102  # 100 and 101 are still playing


def test_only_n_end_frees_an_id():
    nodes = NodeIds(first=100, count=2)
    nodes.allocate(), nodes.allocate()
    for other in (reply("/n_go", 100, 1), reply("/n_off", 100), reply("/n_end"), reply("/done", 100)):
        nodes.observe(other)
    with pytest.raises(RuntimeError):
        nodes.allocate()
    nodes.observe(reply("/n_end", 101, 1, -1, -1, 0))  # the server's full /n_end: node first
    assert nodes.allocate() == 101


def test_an_id_we_never_handed_out_ending_changes_nothing():
    nodes = NodeIds(first=100, count=3)
    nodes.observe(reply("/n_end", 7))
    assert [nodes.allocate() for _ in range(3)] == [100, 101, 102]


def test_when_every_id_is_in_use_allocation_says_so():
    nodes = NodeIds(first=100, count=2)
    nodes.allocate(), nodes.allocate()
    with pytest.raises(RuntimeError, match="all 2 node ids are in use"):
        nodes.allocate()


def test_reset_frees_every_id_and_the_round_goes_on():
    nodes = NodeIds(first=100, count=3)
    nodes.allocate(), nodes.allocate(), nodes.allocate()
    nodes.reset()  # a restarted server has no nodes of ours
    assert [nodes.allocate() for _ in range(3)] == [100, 101, 102]
    nodes = NodeIds(first=100, count=3)
    nodes.allocate()
    nodes.reset()
    assert nodes.allocate() == 101  # reset frees ids; it does not rewind the round


def test_ids_allocated_from_many_threads_are_all_different():
    nodes = NodeIds(first=0, count=10_000)
    got: list[int] = []
    lock = threading.Lock()

    def take() -> None:
        mine = [nodes.allocate() for _ in range(500)]
        with lock:
            got.extend(mine)

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
        assert not thread.is_alive()
    assert len(set(got)) == len(got) == 4000
