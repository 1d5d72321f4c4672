"""How laptops and their agents are named across the network: `alice`, `alice/a3`, and where a
laptop listens, `HOST:PORT`."""

from __future__ import annotations

import re

from ensemble.errors import UserError
from ensemble.safe_text import printable

PEER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
AGENT_NAME = re.compile(r"a(?:0|[1-9][0-9]{0,2})")  # a0..a999, one spelling per agent
SEPARATOR = "/"
HOST_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")  # a host name or an IPv4 address

Address = tuple[str, int]  # (host, UDP port)


def outside_agent(text: str) -> tuple[str, str] | None:
    """`alice/a3` -> ("alice", "a3"); None when `text` does not name an agent on another laptop."""
    peer, separator, agent = text.partition(SEPARATOR)
    if separator and PEER_NAME.fullmatch(peer) and AGENT_NAME.fullmatch(agent):
        return peer, agent
    return None


def laptop_name(text: str, strict: bool = True) -> str:
    """`--name`: checked (`strict`), or a host name made into one (its first label, other
    characters as `-`, cut to 32)."""
    if strict:
        if not PEER_NAME.fullmatch(text):
            raise UserError(f"'{printable(text, 40)}' cannot name a laptop: letters, digits, _ . -, "
                            "up to 32, starting with a letter or digit")
        return text
    made = re.sub(r"[^A-Za-z0-9_.-]", "-", text.split(".")[0]).lstrip("_.-")[:32]
    return made if PEER_NAME.fullmatch(made) else "laptop"


def parse_address(text: str) -> Address:
    """`HOST:PORT` -> (host, port); a UserError saying what is wrong otherwise."""
    host, colon, port = text.rpartition(":")
    digits = port.isascii() and port.isdigit() and len(port) <= 5
    if not colon or not HOST_NAME.fullmatch(host) or not digits:
        raise UserError(f"'{printable(text, 60)}' is not HOST:PORT (e.g. 10.0.0.2:7400)")
    number = int(port)
    if not 1 <= number <= 65535:
        raise UserError(f"'{printable(text, 60)}': a port is 1..65535")  # not 0: the others must know it
    return host, number


def address_text(address: Address) -> str:
    return f"{address[0]}:{address[1]}"
