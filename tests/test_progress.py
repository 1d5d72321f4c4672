import io

from ensemble.progress import Progress


def test_off_a_terminal_only_the_final_line_is_printed():
    stream = io.StringIO()
    progress = Progress(10, "rendering x.wav", stream)
    for done in range(10):
        progress.update(done)
    progress.finish("done")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("rendering x.wav [" + "#" * 30 + "] 100%") and lines[0].endswith("done")
