"""The wire between laptops: every message round-trips, with and without a key; every refusal has
its kind; whatever bytes arrive, decode answers a message or a WireError, nothing else.

Bad datagrams are built here with python-osc's own builder and signed by the rule the module
documents (HMAC-SHA256 of every byte before the signature's own), not through the module."""

import hmac
import math
import struct
from hashlib import sha256

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pythonosc.osc_message_builder import OscMessageBuilder

from ensemble.melody import REST
from ensemble.peers.wire import (
    KINDS,
    MAX_DATAGRAM,
    MAX_MELODIES,
    MAX_NOTES,
    MAX_SEQ,
    PING,
    PONG,
    SHARE,
    SIGNATURE_SIZE,
    Ping,
    Pong,
    Share,
    SharedMelody,
    WireError,
    decode,
    encode,
)
from ensemble.rhythm import MAX_TICKS

KEY = b"our shared secret"
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

MELODY = SharedMelody("a3", (60, REST, 62, 127, 0))
RHYTHMIC = SharedMelody("a12", (60, 64, REST), (8, 16, MAX_TICKS))
SHARE_MESSAGE = Share("alice", 7, 32.0, (MELODY, RHYTHMIC))
MESSAGES = [SHARE_MESSAGE, Share("bob.laptop-2", 0, 0.0, ()), Ping("alice", MAX_SEQ, 1234.5678),
            Pong("carol_3", 12, -0.25)]


def raw(address: str, *arguments: tuple[str, object], key: bytes | None = None,
        signature: bytes | None = None) -> bytes:
    """A datagram of these typed arguments and a signature: by `key`, or given, or zeros."""
    builder = OscMessageBuilder(address)
    for type_tag, value in arguments:
        builder.add_arg(value, type_tag)
    builder.add_arg(signature or bytes(SIGNATURE_SIZE), "b")
    datagram = builder.build().dgram
    if key is None:
        return datagram
    body = datagram[:-SIGNATURE_SIZE]
    return body + hmac.new(key, body, sha256).digest()


def melody_arguments(agent: str, notes: bytes, lengths: bytes | None = None) -> list[tuple[str, object]]:
    return [("s", agent), ("b", notes), ("N", None) if lengths is None else ("b", lengths)]


def share(*melodies: list[tuple[str, object]], sender: str = "alice", beat: float = 4.0,
          key: bytes | None = None) -> bytes:
    arguments = [("s", sender), ("i", 1), ("d", beat)] + [a for melody in melodies for a in melody]
    return raw(SHARE, *arguments, key=key)


def refused(datagram: bytes, key: bytes | None = None) -> str:
    with pytest.raises(WireError) as caught:
        decode(datagram, key)
    assert caught.value.kind in KINDS and caught.value.detail
    assert "\n" not in str(caught.value)
    return caught.value.kind


# -- round trips --------------------------------------------------------------------------------

@pytest.mark.parametrize("key", [None, KEY])
@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: type(m).__name__)
def test_every_message_comes_back_as_it_was_sent(message, key):
    datagram = encode(message, key)
    assert decode(datagram, key) == message
    assert type(decode(datagram, key)) is type(message)
    assert len(datagram) % 4 == 0


def test_the_datagram_is_typed_osc_with_the_signature_last():
    datagram = encode(SHARE_MESSAGE, KEY)
    assert datagram.startswith(b"/ensemble/share\x00,sidsbNsbbb\x00alice\x00\x00\x00")
    assert b"\x00\x00\x00\x05" + bytes([60, 255, 62, 127, 0]) in datagram  # notes: a signed byte each
    assert b"\x00\x00\x00\x06" + struct.pack(">3H", 8, 16, MAX_TICKS) in datagram  # lengths: uint16
    body = datagram[:-SIGNATURE_SIZE]
    assert datagram[-SIGNATURE_SIZE:] == hmac.new(KEY, body, sha256).digest()
    assert encode(SHARE_MESSAGE, None) == body + bytes(SIGNATURE_SIZE)


def test_a_ping_and_a_pong_differ_only_in_their_address():
    ping, pong = encode(Ping("alice", 3, 9.5), None), encode(Pong("alice", 3, 9.5), None)
    assert ping.startswith(PING.encode()) and pong.startswith(PONG.encode())
    assert ping[len(PING):] == pong[len(PONG):]
    assert decode(pong, None) != Ping("alice", 3, 9.5)


def test_a_receiver_without_a_key_takes_signed_datagrams():
    assert decode(encode(SHARE_MESSAGE, KEY), None) == SHARE_MESSAGE


def test_sixteen_agents_of_64_rhythmic_notes_fit_in_a_datagram():
    melodies = tuple(SharedMelody(f"a{100 + i}", tuple(range(MAX_NOTES)), (MAX_TICKS,) * MAX_NOTES)
                     for i in range(16))
    message = Share("x" * 32, MAX_SEQ, 123456.75, melodies)
    datagram = encode(message, KEY)
    assert len(datagram) == 3484  # the figure in MAX_DATAGRAM's comment
    assert len(datagram) <= MAX_DATAGRAM
    assert decode(datagram, KEY) == message


def test_a_share_too_big_for_a_datagram_is_not_encoded():
    melodies = tuple(SharedMelody(f"a{i}", (60,) * MAX_NOTES, (16,) * MAX_NOTES) for i in range(MAX_MELODIES))
    with pytest.raises(ValueError, match="more than 8192"):
        encode(Share("alice", 1, 0.0, melodies), None)


# -- refusals, by kind --------------------------------------------------------------------------

def test_a_datagram_over_the_limit_is_oversized_before_anything_is_read():
    assert refused(b"\xff" * (MAX_DATAGRAM + 1)) == "oversized"
    notes = bytes(range(MAX_NOTES))
    big = share(*[melody_arguments(f"a{i}", notes, b"\x00\x10" * MAX_NOTES) for i in range(40)], key=KEY)
    assert len(big) > MAX_DATAGRAM
    assert refused(big, KEY) == "oversized"


@pytest.mark.parametrize("key", [None, KEY])
def test_every_truncation_is_malformed(key):
    for message in MESSAGES:
        datagram = encode(message, key)
        for end in range(len(datagram)):
            assert refused(datagram[:end], key) == "malformed", (message, end)


@pytest.mark.parametrize("datagram", [
    b"",
    b"hello",
    b"\x00\x00\x00\x00",
    raw("/ensemble/shout", ("s", "alice"), ("i", 1), ("d", 1.0)),  # unknown address
    raw("/ensemble", ("s", "alice"), ("i", 1), ("d", 1.0)),
    raw(PING, ("s", "alice"), ("i", 1), ("f", 1.0)),  # float32, not float64
    raw(PING, ("s", "alice"), ("h", 1), ("d", 1.0)),  # int64
    raw(PING, ("s", "alice"), ("i", 1)),  # an argument missing
    raw(PING, ("s", "alice"), ("i", 1), ("d", 1.0), ("d", 2.0)),  # one too many
    raw(PING, ("s", "alice"), ("i", 1), ("d", 1.0))[:-SIGNATURE_SIZE - 4] + b"\x00" * 4,  # no signature blob
    raw(PING, ("s", "alice"), ("i", 1), ("d", 1.0), signature=b"\x01" * 16),  # a short signature
    raw(PING, ("s", "alice"), ("i", 1), ("d", 1.0)) + b"\x00\x00\x00\x00",  # trailing bytes
    share([("s", "a0"), ("b", b"\x3c")]),  # a melody without lengths or nil
    share([("s", "a0"), ("i", 60), ("N", None)]),
    b"/ensemble/ping\x00\x00,sidb\x00\x00\x00\x00alice\x00\x00\x00\x00\x00\x00\x01" + b"\x00" * 8
    + b"\xff\xff\xff\xf0" + b"\x00" * 36,  # a blob of negative size
    b"/ensemble/ping\x00\x00,sidb\x00\x00\x00\x00\xff\xfe\x00\x00" + b"\x00" * 52,  # a string not UTF-8
], ids=lambda d: repr(d[:24]))
def test_what_is_not_one_of_our_messages_is_malformed(datagram):
    assert refused(datagram) == "malformed"
    assert refused(datagram, KEY) == "malformed"


def test_padding_that_is_not_zeros_is_malformed():
    datagram = bytearray(encode(Ping("alice", 1, 2.0), KEY))
    datagram[len(PING) + 1] = 0x20  # inside the address's padding
    assert refused(bytes(datagram), KEY) == "malformed"


def test_a_datagram_without_a_signature_is_unsigned_when_a_key_is_set():
    for message in MESSAGES:
        assert refused(encode(message, None), KEY) == "unsigned"


def test_a_wrong_key_is_forged():
    for message in MESSAGES:
        assert refused(encode(message, b"another secret"), KEY) == "forged"


def test_a_changed_note_or_beat_under_a_key_is_forged():
    datagram = encode(SHARE_MESSAGE, KEY)
    note = datagram.index(bytes([60, 255, 62]))
    for position in (note, note + 2, datagram.index(struct.pack(">d", 32.0)) + 1):
        tampered = bytearray(datagram)
        tampered[position] ^= 0x01
        assert refused(bytes(tampered), KEY) == "forged"
        assert decode(bytes(tampered), None) != SHARE_MESSAGE  # without a key, nobody can tell


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: type(m).__name__)
def test_any_bit_flipped_under_a_key_is_refused(message):
    datagram = encode(message, KEY)
    for position in range(len(datagram)):
        for bit in (0x01, 0x80):
            tampered = bytearray(datagram)
            tampered[position] ^= bit
            assert refused(bytes(tampered), KEY) in ("malformed", "unsigned", "forged"), position


@pytest.mark.parametrize("datagram", [
    share(melody_arguments("a0", bytes([128]))),  # note 128 as a byte: -128
    share(melody_arguments("a0", bytes([60, 0xFE]))),  # -2
    share(melody_arguments("b1", b"\x3c")),
    share(melody_arguments("a1000", b"\x3c")),
    share(melody_arguments("a01", b"\x3c")),
    share(melody_arguments("a", b"\x3c")),
    share(melody_arguments("a0", b"\x3c"), melody_arguments("a0", b"\x3e")),  # an agent twice
    share(melody_arguments("a0", bytes(MAX_NOTES + 1))),
    share(melody_arguments("a0", b"\x3c\x3e", b"\x00\x10")),  # one length for two notes
    share(melody_arguments("a0", b"\x3c", b"\x00\x10\x00\x10")),
    share(melody_arguments("a0", b"\x3c\x3e", b"\x00\x10\x00")),  # one length and a half
    share(melody_arguments("a0", b"\x3c", b"\x00\x00")),  # a length of 0 ticks
    share(melody_arguments("a0", b"\x3c", struct.pack(">H", MAX_TICKS + 1))),
    share(*[melody_arguments(f"a{i}", b"\x3c") for i in range(MAX_MELODIES + 1)]),
    share(sender="alice smith"),
    share(sender=""),
    share(sender="-alice"),
    share(sender="x" * 33),
    share(sender="álice"),
    share(beat=math.nan),
    share(beat=math.inf),
    share(beat=-1.0),
    raw(PING, ("s", "alice"), ("i", -1), ("d", 1.0)),
    raw(PONG, ("s", "alice"), ("i", 1), ("d", math.nan)),
    raw(PONG, ("s", "alice"), ("i", 1), ("d", -math.inf)),
], ids=str)
def test_a_value_out_of_bounds_is_invalid(datagram):
    assert refused(datagram) == "invalid"
    signed = datagram[:-SIGNATURE_SIZE] + hmac.new(KEY, datagram[:-SIGNATURE_SIZE], sha256).digest()
    assert refused(signed, KEY) == "invalid"


def test_sixty_five_melodies_are_invalid_not_oversized():
    datagram = share(*[melody_arguments(f"a{i}", b"\x3c") for i in range(MAX_MELODIES + 1)])
    assert len(datagram) <= MAX_DATAGRAM


# -- what encode will not send ------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "arguments"), [
    (SharedMelody, ("a0", (128,))),
    (SharedMelody, ("a0", (-2,))),
    (SharedMelody, ("a0", (60.0,))),
    (SharedMelody, ("a0", (True,))),
    (SharedMelody, ("a0", ())),
    (SharedMelody, ("a0", (60,) * (MAX_NOTES + 1))),
    (SharedMelody, ("a0", [60])),
    (SharedMelody, ("b1", (60,))),
    (SharedMelody, ("a0", (60, 62), (8,))),
    (SharedMelody, ("a0", (60,), (0,))),
    (SharedMelody, ("a0", (60,), (MAX_TICKS + 1,))),
    (Share, ("alice smith", 1, 0.0, ())),
    (Share, ("alice", -1, 0.0, ())),
    (Share, ("alice", MAX_SEQ + 1, 0.0, ())),
    (Share, ("alice", 1, math.nan, ())),
    (Share, ("alice", 1, -0.5, ())),
    (Share, ("alice", 1, 10**400, ())),
    (Share, ("alice", 1, 0.0, (MELODY,) * 2)),
    (Share, ("alice", 1, 0.0, tuple(SharedMelody(f"a{i}", (60,)) for i in range(MAX_MELODIES + 1)))),
    (Ping, ("alice", 1, math.inf)),
    (Pong, ("", 1, 0.0)),
])
def test_encode_never_sends_what_a_peer_would_call_invalid(kind, arguments):
    """A message is checked when it is made, so encode never meets one out of bounds."""
    with pytest.raises(ValueError):
        encode(kind(*arguments), None)


def test_an_empty_key_is_refused():
    with pytest.raises(ValueError):
        encode(SHARE_MESSAGE, b"")
    with pytest.raises(ValueError):
        decode(encode(SHARE_MESSAGE, KEY), b"")


# -- properties ---------------------------------------------------------------------------------

names = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}", fullmatch=True)
seqs = st.integers(0, MAX_SEQ)


@st.composite
def melodies(draw):
    count = draw(st.integers(1, MAX_NOTES))
    notes = draw(st.lists(st.sampled_from([REST, *range(128)]), min_size=count, max_size=count))
    lengths = draw(st.none() | st.lists(st.integers(1, MAX_TICKS), min_size=count, max_size=count).map(tuple))
    return SharedMelody(f"a{draw(st.integers(0, 999))}", tuple(notes), lengths)


shares = st.builds(Share, names, seqs, st.floats(0, 1e12, allow_nan=False),
                   st.lists(melodies(), max_size=16, unique_by=lambda m: m.agent).map(tuple))
finite = st.floats(allow_nan=False, allow_infinity=False)
messages = shares | st.builds(Ping, names, seqs, finite) | st.builds(Pong, names, seqs, finite)
keys = st.none() | st.binary(min_size=1, max_size=64)


@FUZZ
@given(messages, keys)
def test_every_valid_message_round_trips(message, key):
    assert decode(encode(message, key), key) == message


def only_wire_errors(datagram: bytes, key: bytes | None) -> None:
    try:
        decode(datagram, key)
    except WireError as error:
        assert error.kind in KINDS


@FUZZ
@given(st.binary(max_size=MAX_DATAGRAM + 8), keys)
def test_random_bytes_give_a_message_or_a_wire_error(datagram, key):
    only_wire_errors(datagram, key)


@FUZZ
@given(st.sampled_from([SHARE, PING, PONG]),
       st.from_regex(r",sid(sb[bN]){0,3}b", fullmatch=True) | st.text(alphabet=",sidbfhNTF[]m", max_size=40),
       st.binary(max_size=400), keys)
def test_random_arguments_behind_our_addresses_give_a_message_or_a_wire_error(address, tags, rest, key):
    header = OscMessageBuilder(address).build().dgram[: -4]  # the address, padded
    only_wire_errors(header + (tags.encode() + b"\x00" * (4 - len(tags) % 4)) + rest, key)


@FUZZ
@given(messages, keys, st.data())
def test_damaged_datagrams_give_a_message_or_a_wire_error(message, key, data):
    original = encode(message, key)
    datagram = bytearray(original)
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(datagram) - 1))
        datagram[position] ^= 1 << data.draw(st.integers(0, 7))
    cut = data.draw(st.integers(0, len(datagram)))
    only_wire_errors(bytes(datagram), key)
    only_wire_errors(bytes(datagram[:cut]), key)
    if key is not None and datagram != original:
        with pytest.raises(WireError):  # a key catches every change
            decode(bytes(datagram), key)
