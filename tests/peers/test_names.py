"""Names across the network: laptops, their agents, where they listen."""

from __future__ import annotations

import pytest

from ensemble.errors import UserError
from ensemble.peers.names import laptop_name, outside_agent, parse_address


@pytest.mark.parametrize(("text", "parts"), [
    ("alice/a3", ("alice", "a3")), ("studio-2.local/a0", ("studio-2.local", "a0")),
    ("a3", None), ("alice/a03", None), ("alice/", None), ("/a3", None), ("alice/a3/a4", None),
    ("-x/a1", None), ("alice/a1000", None), ("ali ce/a1", None),
])
def test_an_agent_on_another_laptop(text: str, parts: tuple[str, str] | None) -> None:
    assert outside_agent(text) == parts


def test_addresses() -> None:
    assert parse_address("10.77.0.2:7400") == ("10.77.0.2", 7400)
    assert parse_address("studio.local:1") == ("studio.local", 1)
    for bad, said in [("10.0.0.2", "is not HOST:PORT"), (":7400", "is not HOST:PORT"),
                      ("h:0", "a port is 1..65535"), ("h:65536", "a port is 1..65535"),
                      ("h:7e3", "is not HOST:PORT"), ("h:\u00b2", "is not HOST:PORT"),
                      ("bad host:1", "is not HOST:PORT"), ("h:" + "9" * 5000, "is not HOST:PORT"),
                      ("h:99999", "a port is 1..65535")]:
        with pytest.raises(UserError, match=said) as raised:
            parse_address(bad)
        assert "\n" not in str(raised.value) and len(str(raised.value)) < 160


def test_laptop_names() -> None:
    assert laptop_name("alice") == "alice"
    with pytest.raises(UserError, match="cannot name a laptop"):
        laptop_name("alice/bob")
    assert laptop_name("Studio Mac.local", strict=False) == "Studio-Mac"
    assert laptop_name("_" * 3, strict=False) == "laptop"
    assert laptop_name("x" * 80, strict=False) == "x" * 32
