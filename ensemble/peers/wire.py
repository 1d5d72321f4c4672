"""What laptops say to each other: three typed OSC messages, bounded, validated and optionally
signed. Pure: bytes in, bytes out; the sockets are elsewhere.

Every message is one UDP datagram holding one OSC message (built and parsed by python-osc) of
strings, int32s, float64s, blobs and OSC's nil, never code, pickles or JSON:

    /ensemble/share  ,sid(sb[bN])*b  sender seq beat, per melody: agent notes lengths|nil, signature
    /ensemble/ping   ,sidb           sender seq sent_at signature
    /ensemble/pong   ,sidb           sender seq sent_at signature  (the ping's seq and sent_at)

A melody's notes are a blob of one signed byte each (REST = -1), its lengths a blob of one
big-endian uint16 each (ticks), or nil when it has none. The last argument is always a blob of
SIGNATURE_SIZE bytes: with a key, HMAC-SHA256(key, every byte of the datagram before the
signature's own bytes); without one, zeros (python-osc writes no empty blob). A datagram must be
exactly what `encode` writes for its values (no trailing bytes, zero padding), so that the
signature covers all of it and any changed byte is refused.

`decode` refuses anything else with a WireError of one of KINDS, checked in this order:
oversized (before any parsing), malformed, unsigned, forged (the key's verdict comes before the
values are read), invalid. A receiver without a key takes signed and unsigned datagrams alike.
"""

from __future__ import annotations

import hmac
import math
import re
import struct
from dataclasses import dataclass
from hashlib import sha256
from typing import Any, Literal, TypeAlias, TypeGuard, get_args

from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.parsing import osc_types

from ensemble.melody import REST
from ensemble.peers.names import AGENT_NAME, PEER_NAME
from ensemble.rhythm import MAX_TICKS
from ensemble.safe_text import printable

MAX_DATAGRAM = 8192  # bytes: a 16-agent share of 64 rhythmic notes each takes 3,484
MAX_MELODIES = 64  # per share (a laptop with more agents sends several shares)
MAX_NOTES = 64  # per melody
MAX_SEQ = 2**31 - 1  # the largest OSC int32
SIGNATURE_SIZE = 32  # HMAC-SHA256
UNSIGNED = bytes(SIGNATURE_SIZE)  # the signature of a datagram sent without a key
LOWEST_NOTE, HIGHEST_NOTE = 0, 127  # MIDI; REST besides

SHARE, PING, PONG = "/ensemble/share", "/ensemble/ping", "/ensemble/pong"
_TYPE_TAGS = {SHARE: re.compile(r",sid(?:sb[bN])*b"), PING: re.compile(r",sidb"), PONG: re.compile(r",sidb")}

Kind = Literal["oversized", "malformed", "unsigned", "forged", "invalid"]
KINDS: tuple[Kind, ...] = get_args(Kind)


class WireError(Exception):
    """A datagram refused, for a reason of one of KINDS (which receivers count and show)."""

    def __init__(self, kind: Kind, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


def _require(ok: bool, problem: str) -> None:
    if not ok:
        raise ValueError(problem)


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_finite(value: object) -> TypeGuard[float]:
    """A float, or an int, that is a finite float64 (an int too big for one is not)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _check_name(name: object, pattern: re.Pattern[str], what: str) -> None:
    _require(isinstance(name, str) and pattern.fullmatch(name) is not None,
             f"{what} {printable(str(name), 40)!r}: must match {pattern.pattern}")


def _check_seq(seq: object) -> None:
    _require(_is_int(seq) and 0 <= seq <= MAX_SEQ, f"seq {seq!r}: must be 0..{MAX_SEQ}")


@dataclass(frozen=True)
class SharedMelody:
    """An agent's greedy melody: MIDI notes or REST, and with rhythm their lengths in ticks."""

    agent: str
    notes: tuple[int, ...]
    lengths: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        _check_name(self.agent, AGENT_NAME, "agent")
        _require(isinstance(self.notes, tuple) and 1 <= len(self.notes) <= MAX_NOTES,
                 f"{self.agent}: a melody has 1..{MAX_NOTES} notes")
        _require(all(_is_int(n) and (n == REST or LOWEST_NOTE <= n <= HIGHEST_NOTE) for n in self.notes),
                 f"{self.agent}: notes must be {LOWEST_NOTE}..{HIGHEST_NOTE} or {REST} (rest)")
        if self.lengths is not None:
            _require(isinstance(self.lengths, tuple) and len(self.lengths) == len(self.notes),
                     f"{self.agent}: one length per note")
            _require(all(_is_int(t) and 1 <= t <= MAX_TICKS for t in self.lengths),
                     f"{self.agent}: lengths must be 1..{MAX_TICKS} ticks")


@dataclass(frozen=True)
class Share:
    """What a laptop shares once a phrase: its agents' melodies for the phrase starting at `beat`."""

    sender: str
    seq: int
    beat: float
    melodies: tuple[SharedMelody, ...]

    def __post_init__(self) -> None:
        _check_name(self.sender, PEER_NAME, "peer name")
        _check_seq(self.seq)
        _require(_is_finite(self.beat) and self.beat >= 0, f"beat {self.beat!r}: must be finite and >= 0")
        _require(isinstance(self.melodies, tuple) and len(self.melodies) <= MAX_MELODIES
                 and all(isinstance(m, SharedMelody) for m in self.melodies),
                 f"a share holds at most {MAX_MELODIES} melodies")
        agents = [melody.agent for melody in self.melodies]
        _require(len(set(agents)) == len(agents), "an agent is shared twice")


@dataclass(frozen=True)
class _Probe:
    """A ping or a pong: `sent_at` is the pinging laptop's own clock, echoed back for a round trip."""

    sender: str
    seq: int
    sent_at: float

    def __post_init__(self) -> None:
        _check_name(self.sender, PEER_NAME, "peer name")
        _check_seq(self.seq)
        _require(_is_finite(self.sent_at), f"sent_at {self.sent_at!r}: must be finite")


class Ping(_Probe):
    """Are you there?"""


class Pong(_Probe):
    """The answer to a ping, from `sender`, with the ping's seq and sent_at."""


Message: TypeAlias = Share | Ping | Pong
Argument: TypeAlias = tuple[str, Any]  # an OSC type tag and its value


def encode(message: Message, key: bytes | None) -> bytes:
    """The datagram for `message`, signed with `key` if any. ValueError if a peer would refuse it
    (a message is validated when made; here the size)."""
    _check_key(key)
    unsigned = _datagram(_address(message), [*_arguments(message), ("b", UNSIGNED)])
    _require(len(unsigned) <= MAX_DATAGRAM, f"{len(unsigned)} bytes: more than {MAX_DATAGRAM} in a datagram")
    return unsigned if key is None else _signed(unsigned[:-SIGNATURE_SIZE], key)


def decode(datagram: bytes, key: bytes | None) -> Message:
    """The message in `datagram`, or WireError: never any other exception, whatever arrives."""
    _check_key(key)
    if len(datagram) > MAX_DATAGRAM:
        raise WireError("oversized", f"{len(datagram)} bytes, more than {MAX_DATAGRAM}")
    address, arguments = _parse(datagram)
    if key is not None:
        _verify(datagram, key)
    try:
        return _message(address, [value for _, value in arguments[:-1]])
    except ValueError as error:
        raise WireError("invalid", str(error)) from None


def _check_key(key: bytes | None) -> None:
    _require(key is None or (isinstance(key, bytes) and len(key) > 0), "a key must be some bytes, or None")


def _address(message: Message) -> str:
    return SHARE if isinstance(message, Share) else PONG if isinstance(message, Pong) else PING


def _arguments(message: Message) -> list[Argument]:
    if not isinstance(message, Share):
        return [("s", message.sender), ("i", message.seq), ("d", float(message.sent_at))]
    arguments = [("s", message.sender), ("i", message.seq), ("d", float(message.beat))]
    for melody in message.melodies:
        lengths = ("N", None) if melody.lengths is None else ("b", _ticks_blob(melody.lengths))
        arguments += [("s", melody.agent), ("b", _notes_blob(melody.notes)), lengths]
    return arguments


def _datagram(address: str, arguments: list[Argument]) -> bytes:
    builder = OscMessageBuilder(address)
    for type_tag, value in arguments:
        builder.add_arg(value, type_tag)
    return bytes(builder.build().dgram)


def _signed(body: bytes, key: bytes) -> bytes:
    return body + _signature(body, key)


def _signature(body: bytes, key: bytes) -> bytes:
    return hmac.new(key, body, sha256).digest()


def _parse(datagram: bytes) -> tuple[str, list[Argument]]:
    """The address and typed arguments, if `datagram` is one of our messages as encode writes it."""
    # python-osc's parser lets some errors of hostile bytes through (UnicodeDecodeError, ...):
    # whatever fails in it means the bytes are not an OSC message.
    try:
        address, index = osc_types.get_string(datagram, 0)
        type_tags, _ = osc_types.get_string(datagram, index)
    except Exception:
        raise WireError("malformed", "not an OSC message") from None
    if address not in _TYPE_TAGS:
        raise WireError("malformed", f"unknown address {printable(address, 40)!r}")
    if not _TYPE_TAGS[address].fullmatch(type_tags):  # checked before parsing: no other types get in
        raise WireError("malformed", f"{address}: arguments {printable(type_tags, 40)!r} are not "
                                     f"{_TYPE_TAGS[address].pattern}")
    try:
        arguments = list(zip(type_tags[1:], OscMessage(datagram).params, strict=True))
        canonical = len(arguments[-1][1]) == SIGNATURE_SIZE and _datagram(address, arguments) == datagram
    except Exception:
        raise WireError("malformed", f"{address}: truncated or garbled arguments") from None
    if not canonical:
        raise WireError("malformed", f"{address}: not as encoded (sizes, padding or trailing bytes)")
    return address, arguments


def _verify(datagram: bytes, key: bytes) -> None:
    body, signature = datagram[:-SIGNATURE_SIZE], datagram[-SIGNATURE_SIZE:]
    if signature == UNSIGNED:
        raise WireError("unsigned", "no signature, and a key is set")
    if not hmac.compare_digest(signature, _signature(body, key)):
        raise WireError("forged", "the signature does not match the key")


def _message(address: str, values: list[Any]) -> Message:
    """The message of already well-typed values; ValueError if one is out of bounds."""
    sender, seq, when, *melodies = values
    if address != SHARE:
        return (Ping if address == PING else Pong)(sender, seq, when)
    triples = zip(melodies[::3], melodies[1::3], melodies[2::3], strict=True)
    return Share(sender, seq, when, tuple(
        SharedMelody(agent, _notes(notes), None if lengths is None else _ticks(lengths))
        for agent, notes, lengths in triples))


def _notes_blob(notes: tuple[int, ...]) -> bytes:
    return struct.pack(f">{len(notes)}b", *notes)


def _notes(blob: bytes) -> tuple[int, ...]:
    return struct.unpack(f">{len(blob)}b", blob)


def _ticks_blob(lengths: tuple[int, ...]) -> bytes:
    return struct.pack(f">{len(lengths)}H", *lengths)


def _ticks(blob: bytes) -> tuple[int, ...]:
    _require(len(blob) % 2 == 0, "lengths take two bytes each")
    return struct.unpack(f">{len(blob) // 2}H", blob)
