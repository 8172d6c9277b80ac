"""The analysis benchmark's command line: what its last JSON line says about the history."""

import pytest

from benchmarks import analysis


@pytest.mark.parametrize("scale", [1.0, 0.2, 0.05, 0.02, 0.0123])
def test_history_scale_gives_back_the_scale_a_history_was_written_at(scale):
    per_wave = max(int(round(1_000_000 * scale / analysis.N_WAVES)), 10)
    assert analysis.history_scale(per_wave * analysis.N_WAVES) == scale


def test_a_tiny_history_reports_its_own_size_not_the_scale_asked():
    # 10 responses a wave whatever smaller scale was asked for: 400 responses.
    assert analysis.history_scale(10 * analysis.N_WAVES) == 0.0004


def test_reuse_refuses_a_scale(capsys):
    with pytest.raises(SystemExit):
        analysis.main(["--reuse", "--scale", "0.2", "--path", "/nonexistent.sqlite3"])
    assert "its size is not chosen" in capsys.readouterr().err
