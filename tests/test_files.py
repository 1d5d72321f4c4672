"""Files that appear complete or not at all, and outputs that never land on an input: on the
real file system (links, permissions, locks, devices)."""

import os
import stat
from pathlib import Path

import pytest

from ensemble.errors import UserError
from ensemble.files import PartialFile, partial_path, refuse_overlaps, same_file, written_together


def _listing(folder):
    return sorted(path.name for path in folder.iterdir())


def test_a_partial_file_is_hidden_beside_its_target_and_named_for_it(tmp_path):
    assert partial_path(tmp_path / "take.wav") == tmp_path / ".take.wav.partial"


def test_the_files_appear_together_once_complete(tmp_path):
    (tmp_path / "a.wav").write_bytes(b"earlier take")
    with written_together([tmp_path / "a.wav", tmp_path / "a.mid"]) as (wav, mid):
        wav.path.write_bytes(b"new take")
        mid.path.write_bytes(b"MThd")
        assert (tmp_path / "a.wav").read_bytes() == b"earlier take"  # untouched until complete
        assert not (tmp_path / "a.mid").exists()
    assert (tmp_path / "a.wav").read_bytes() == b"new take"
    assert (tmp_path / "a.mid").read_bytes() == b"MThd"
    assert _listing(tmp_path) == ["a.mid", "a.wav"]


@pytest.mark.parametrize("error", [UserError("a bad line"), KeyboardInterrupt(), OSError(28, "No space")])
def test_a_failure_or_an_interruption_leaves_every_target_as_it_was(tmp_path, error):
    (tmp_path / "a.wav").write_bytes(b"earlier take")
    with pytest.raises(type(error)), written_together([tmp_path / "a.wav", tmp_path / "a.mid"]) as (wav, mid):
        wav.path.write_bytes(b"half a take")
        mid.path.write_bytes(b"MThd")
        raise error
    assert (tmp_path / "a.wav").read_bytes() == b"earlier take"
    assert _listing(tmp_path) == ["a.wav"]


def test_through_a_symbolic_link_the_file_it_names_is_replaced_and_the_link_kept(tmp_path):
    (tmp_path / "real.wav").write_bytes(b"old")
    (tmp_path / "link.wav").symlink_to("real.wav")
    with written_together([tmp_path / "link.wav"]) as (partial,):
        assert partial.path == tmp_path / ".real.wav.partial"
        partial.path.write_bytes(b"new")
    assert (tmp_path / "link.wav").is_symlink()
    assert (tmp_path / "real.wav").read_bytes() == b"new"


def test_a_replaced_file_keeps_its_permissions(tmp_path):
    (tmp_path / "a.wav").write_bytes(b"old")
    (tmp_path / "a.wav").chmod(0o640)
    with written_together([tmp_path / "a.wav"]) as (partial,):
        partial.path.write_bytes(b"new")
    assert stat.S_IMODE((tmp_path / "a.wav").stat().st_mode) == 0o640


def test_a_folder_or_a_missing_folder_is_refused_in_one_line_before_any_work(tmp_path):
    (tmp_path / "folder").mkdir()
    with pytest.raises(UserError, match=r"^cannot write .*folder: it is a folder$"):
        PartialFile(tmp_path / "folder")
    with pytest.raises(UserError, match=r"^cannot write .*x\.wav: No such file or directory$"):
        PartialFile(tmp_path / "missing" / "x.wav")
    assert _listing(tmp_path) == ["folder"]


def test_a_partial_left_by_a_killed_writer_is_taken_over(tmp_path):
    (tmp_path / ".a.wav.partial").write_bytes(b"half a take, the writer killed")
    with written_together([tmp_path / "a.wav"]) as (partial,):
        assert partial.path.read_bytes() == b""  # emptied: nothing of the dead writer's is kept
        partial.path.write_bytes(b"whole")
    assert _listing(tmp_path) == ["a.wav"]


def test_a_target_being_written_by_someone_else_is_refused(tmp_path):
    with written_together([tmp_path / "a.wav"]) as (partial,):
        partial.path.write_bytes(b"one")
        with pytest.raises(UserError, match="another process is writing it"):
            PartialFile(tmp_path / "a.wav")
    assert (tmp_path / "a.wav").read_bytes() == b"one"


def test_a_device_is_written_in_place():
    with written_together([Path(os.devnull)]) as (partial,):
        assert str(partial.path) == os.devnull and partial.in_place
        partial.path.write_bytes(b"gone")


def test_one_file_under_two_names(tmp_path):
    (tmp_path / "s.ens").write_text("wait 1\n")
    (tmp_path / "sym.ens").symlink_to("s.ens")
    os.link(tmp_path / "s.ens", tmp_path / "hard.ens")
    (tmp_path / "sub").mkdir()
    for name in ["s.ens", "./s.ens", "sub/../s.ens", "sym.ens", "hard.ens"]:
        assert same_file(tmp_path / name, tmp_path / "s.ens"), name
    assert same_file(tmp_path / "new.wav", tmp_path / "sub" / ".." / "new.wav")  # neither exists yet
    assert not same_file(tmp_path / "new.wav", tmp_path / "s.ens")


def test_an_output_onto_an_input_is_refused(tmp_path):
    (tmp_path / "s.ens").write_text("wait 1\n")
    (tmp_path / "sym.wav").symlink_to("s.ens")
    for output in [tmp_path / "s.ens", tmp_path / "sym.wav", tmp_path / "." / "s.ens"]:
        with pytest.raises(UserError, match=r"^--out .* is the script being rendered( \(.*s\.ens\))?: "
                                            r"writing there would destroy it; choose another file$"):
            refuse_overlaps({"the script being rendered": tmp_path / "s.ens"}, {"--out": output})


def test_an_output_whose_partial_file_is_the_input_is_refused(tmp_path):
    (tmp_path / ".x.wav.partial").write_text("wait 1\n")
    with pytest.raises(UserError, match="would destroy it"):
        refuse_overlaps({"the script": tmp_path / ".x.wav.partial"}, {"--out": tmp_path / "x.wav"})


def test_two_outputs_that_are_one_file_are_refused(tmp_path):
    with pytest.raises(UserError, match=r"^--out .*x and --midi .*x are one file; give each its own$"):
        refuse_overlaps({}, {"--out": tmp_path / "x", "--midi": tmp_path / "sub" / ".." / "x"})


def test_an_output_onto_where_another_is_written_until_complete_is_refused(tmp_path):
    with pytest.raises(UserError, match="are one file"):
        refuse_overlaps({}, {"--out": tmp_path / ".x.mid.partial", "--midi": tmp_path / "x.mid"})


def test_when_one_target_cannot_be_written_none_is_begun(tmp_path):
    with pytest.raises(UserError, match="No such file or directory"), \
            written_together([tmp_path / "a.wav", tmp_path / "missing" / "a.mid"]):
        pytest.fail("nothing is written when a target cannot be")
    assert _listing(tmp_path) == []


def test_distinct_files_pass(tmp_path):
    (tmp_path / "s.ens").write_text("wait 1\n")
    refuse_overlaps({"the script": tmp_path / "s.ens"},
                    {"--out": tmp_path / "s.wav", "--midi": tmp_path / "s.mid"})
