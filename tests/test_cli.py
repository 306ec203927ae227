"""The CLI as a musician uses it: real files written, one-line errors, nothing half-written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import mido
import pytest

from mididrumigen.cli import main
from mididrumigen.profile import StyleProfile

REPO_DIR = Path(__file__).resolve().parents[1]


def run_cli(*args: str, env_home: Path) -> subprocess.CompletedProcess[str]:
    """Run the real command in a fresh interpreter, as a user would."""
    env = dict(os.environ)
    env["MIDIDRUMIGEN_CONFIG_DIR"] = str(env_home / "config")
    env["MIDIDRUMIGEN_DATA_DIR"] = str(env_home / "data")
    env.pop("MIDIDRUMIGEN_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "mididrumigen", *args],
        capture_output=True,
        text=True,
        cwd=REPO_DIR,
        env=env,
        timeout=60,
        check=False,
    )


def test_generate_json_writes_real_midi(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code = main(
        [
            "generate",
            "John Bonham",
            "--bars",
            "4",
            "--variations",
            "3",
            "--seed",
            "7",
            "--out",
            str(out),
            "--json",
        ]
    )
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["artist"] == "John Bonham"
    assert result["provider_used"] == "groove-engine"
    assert result["variations"] == 3 and result["bars"] == 4
    assert result["profile"]["artist_name"] == "John Bonham"
    assert result["generation_time_ms"] > 0
    assert len(result["files"]) == 3
    for index, name in enumerate(result["files"], start=1):
        path = Path(name)
        assert path.is_absolute() and path.parent == out.resolve()
        midi = mido.MidiFile(path)
        names = [m.name for t in midi.tracks for m in t if m.type == "track_name"]
        assert f"John Bonham - Variation {index}" in names
        notes = [m for t in midi.tracks for m in t if m.type in ("note_on", "note_off")]
        assert notes and all(m.channel == 9 for m in notes)


def test_generate_is_reproducible_with_a_seed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = []
    for run in ("a", "b"):
        main(["generate", "questlove", "--seed", "11", "--out", str(tmp_path / run), "--json"])
        files.append(json.loads(capsys.readouterr().out)["files"])
    for first, second in zip(*files, strict=True):
        assert Path(first).read_bytes() == Path(second).read_bytes()


def test_generate_style_without_artist_shows_grids(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["generate", "--style", "funk", "--variations", "2", "--bars", "2", "--out", str(tmp_path)]) == 0
    )
    text = capsys.readouterr().out
    assert "Variation 1" in text and "Variation 2" in text
    assert text.count(".mid") == 2
    assert len(list(tmp_path.glob("*.mid"))) == 2


def test_generate_meter_tempo_and_drum_map(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["generate", "Danny Carey", "--time-signature", "7/8", "--tempo", "140", "--bars", "2"]
    args += ["--variations", "1", "--drum-map", "ad2", "--out", str(tmp_path), "--json"]
    assert main(args) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["time_signature"] == [7, 8] and result["tempo"] == 140
    midi = mido.MidiFile(result["files"][0])
    meta = [m for t in midi.tracks for m in t if m.type == "time_signature"]
    assert (meta[0].numerator, meta[0].denominator) == (7, 8)
    tempo = next(m for t in midi.tracks for m in t if m.type == "set_tempo")
    assert mido.tempo2bpm(tempo.tempo) == pytest.approx(140, abs=0.01)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["generate", "Xyzzy Plugh"], "unknown artist"),
        (["generate", "--style", "polka-metal"], "style"),
        (["generate", "John Bonham", "--bars", "0"], "bars must be from 1 to 16"),
        (["generate", "John Bonham", "--bars", "1000"], "bars must be from 1 to 16"),
        (["generate", "John Bonham", "--tempo", "10"], "tempo must be from 40 to 300"),
        (["generate", "John Bonham", "--time-signature", "4/3"], "4/3"),
        (["generate", "John Bonham", "--drum-map", "nonexistent-map"], "drum map"),
        (["generate", "../../etc/passwd"], "path separators"),
        (["generate", "John\x07Bonham"], "control characters"),
        (["generate", "x" * 10_000], "longer than"),
        (["generate", "John Bonham", "--bars", "four"], "invalid int value"),
        (["analyze", "/nonexistent/file.mid"], "no such file"),
        (["analyze", "/nonexistent/file.mid", "--drum-map", "nonexistent-map"], "unknown drum map"),
        (
            ["analyze", "/nonexistent/file.mid", "--drum-map", "/nonexistent/kit.toml"],
            "cannot read drum map file",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    out = tmp_path / "out"
    result = (
        run_cli(*args, "--out", str(out), env_home=tmp_path)
        if args[0] == "generate"
        else run_cli(*args, env_home=tmp_path)
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]
    assert "Traceback" not in result.stderr
    assert not out.exists() or not any(out.iterdir())


def test_unknown_artist_lists_close_matches(tmp_path: Path) -> None:
    result = run_cli("generate", "John Bonhamm", "--out", str(tmp_path / "o"), env_home=tmp_path)
    # a near miss is matched, not refused
    assert result.returncode == 0, result.stderr
    result = run_cli("generate", "Stewie Copelandish Xyz", "--out", str(tmp_path / "o"), env_home=tmp_path)
    assert result.returncode == 2
    assert "Copeland" in result.stderr


def test_non_midi_file_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "song.mid"
    bogus.write_text("this is not midi")
    result = run_cli("analyze", str(bogus), env_home=tmp_path)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1


def test_unwritable_output_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("x")
    result = run_cli("generate", "John Bonham", "--out", str(blocker / "sub"), env_home=tmp_path)
    assert result.returncode == 2
    assert "output folder" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_drum_map_missing_a_piece_writes_nothing(tmp_path: Path) -> None:
    user_map = tmp_path / "tiny.toml"
    user_map.write_text('name = "tiny"\n[pieces]\nkick = 36\nsnare = 38\n')
    out = tmp_path / "out"
    result = run_cli(
        "generate", "John Bonham", "--drum-map", str(user_map), "--out", str(out), env_home=tmp_path
    )
    assert result.returncode == 2
    assert "tiny" in result.stderr
    assert not out.exists() or not any(out.iterdir())


def test_analyze_gmd_file(gmd_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = next(gmd_dir.glob("drummer1/session1/*_funk_95_beat_4-4.mid"))
    assert main(["analyze", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["tempo_bpm"] == pytest.approx(95, rel=0.04)


def test_generate_uses_a_researched_profile_from_the_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], save_in_store: Callable[[StyleProfile], None]
) -> None:
    import dataclasses

    from mididrumigen.research.drummers import find_builtin

    profile = dataclasses.replace(find_builtin("Tony Allen"), artist_name="Tessa Marlowe", aliases=[])
    save_in_store(profile)
    assert main(["generate", "tessa marlowe", "--variations", "1", "--out", str(tmp_path), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["artist"] == "Tessa Marlowe"
    assert result["style"] == "afrobeat"
    # a name neither built in nor researched says how to research it
    assert main(["generate", "Nobody Atall", "--out", str(tmp_path)]) == 2
    assert "mididrumigen research 'Nobody Atall'" in capsys.readouterr().err


def test_analyze_prints_a_readable_summary(gmd_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = next(gmd_dir.glob("drummer1/session1/*_funk_95_beat_4-4.mid"))
    assert main(["analyze", str(path)]) == 0
    text = capsys.readouterr().out
    assert "BPM (estimated from the playing" in text
    assert "ghost notes" in text
    assert any(line.split()[:1] == ["kick"] for line in text.splitlines())


def test_analyze_names_the_other_tempo_of_a_half_time_reading(
    gmd_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # An 80 bpm funk groove with 16th hats and no steady backbeat, read at 160: the click
    # tempo is offered beside it.
    path = gmd_dir / "drummer8/session1/7_funk_80_beat_4-4.mid"
    assert main(["analyze", str(path)]) == 0
    tempo_line = next(line for line in capsys.readouterr().out.splitlines() if "tempo" in line)
    assert "160.0 BPM" in tempo_line and "could also be counted at" in tempo_line and "80.0)" in tempo_line


def test_generate_prefers_a_researched_profile_of_a_builtin_drummer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], save_in_store: Callable[[StyleProfile], None]
) -> None:
    import dataclasses

    from mididrumigen.research.drummers import find_builtin

    builtin = find_builtin("John Bonham")
    researched = dataclasses.replace(builtin, styles=["funk"], sources_count={"builtin": 1, "audio": 2})
    save_in_store(researched)
    assert main(["generate", "bonham", "--variations", "1", "--out", str(tmp_path), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["style"] == "funk"
    assert result["profile"]["sources_count"] == {"builtin": 1, "audio": 2}


def test_unknown_artist_hint_is_the_name_as_typed_quoted_for_a_shell(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["generate", "Zoë Ångström 🥁", "--daemon", "no"]) == 2
    err = capsys.readouterr().err
    assert "(or research it first: mididrumigen research 'Zoë Ångström 🥁')" in err
    assert main(["generate", "Tony O'Reilly Qqq", "--daemon", "no"]) == 2
    assert """mididrumigen research 'Tony O'"'"'Reilly Qqq'""" in capsys.readouterr().err


def test_unknown_artist_suggestions_come_best_first(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "John Bonhxxx", "--daemon", "no"]) == 2
    assert "did you mean John Bonham, " in capsys.readouterr().err


@pytest.fixture
def odd_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Paths the OS refuses in different ways, and a folder and a file where the other is wanted."""
    import errno

    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    (tmp_path / "plain.mid").write_bytes(b"MThd")
    (tmp_path / "folder.mid").mkdir()
    locked = tmp_path / "locked"
    real_stat = Path.stat

    def stat(self: Path, **kwargs: bool) -> os.stat_result:
        if self.name == locked.name:  # tests may run as root, who is never refused
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_stat(self, **kwargs)

    monkeypatch.setattr(Path, "stat", stat)
    return {
        "too long": tmp_path / ("x" * 300 + ".mid"),
        "a file, not a folder": tmp_path / "plain.mid" / "x.mid",
        "symbolic links": tmp_path / "loop" / "x.mid",
        "permission denied": locked,
    }


@pytest.mark.parametrize(
    "problem", ["too long", "a file, not a folder", "symbolic links", "permission denied"]
)
@pytest.mark.parametrize(
    "command", [["analyze"], ["library", "add"], ["generate", "--style", "funk", "--out"]]
)
def test_paths_the_os_refuses_are_one_line_and_exit_2(
    odd_paths: dict[str, Path], capsys: pytest.CaptureFixture[str], command: list[str], problem: str
) -> None:
    assert (
        main([*command, str(odd_paths[problem]), *(["--daemon", "no"] if command[0] == "generate" else [])])
        == 2
    )
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "internal error" not in err, err
    assert problem in err and len(err) < 250


def test_a_folder_is_not_a_file_and_a_file_not_a_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "beats").mkdir()
    (tmp_path / "beat.mid").write_bytes(b"MThd")
    assert main(["analyze", str(tmp_path / "beats")]) == 2
    assert "beats is a folder, not a MIDI file" in capsys.readouterr().err
    assert main(["library", "add", str(tmp_path / "beat.mid")]) == 2
    assert "beat.mid is a file, not a folder" in capsys.readouterr().err


def test_counts_read_as_english(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from mididrumigen.cli import _print_features

    args = [
        "generate",
        "John Bonham",
        "--bars",
        "1",
        "--variations",
        "1",
        "--out",
        str(tmp_path),
        "--seed",
        "3",
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert " · 1 bar · " in out and "\n1 file in " in out
    assert main(["analyze", str(next(tmp_path.glob("*.mid"))), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    for fill_bars, shown in [([], "(no fills)"), ([1], "(fill in bar 2)"), ([0, 3], "(fills in bars 1, 4)")]:
        _print_features(tmp_path / "x.mid", {**data, "bars": 4, "fill_bars": fill_bars})
        assert f"  bars         4 {shown}\n" in capsys.readouterr().out
    assert main(["library", "add", str(tmp_path)]) == 0
    assert "indexed 1 file from " in capsys.readouterr().out


def test_library_add_counts_beats_and_fills_apart_and_refuses_a_folder_without_midi(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], gmd_dir: Path
) -> None:
    folder = tmp_path / "gmd"
    folder.mkdir()
    for name in ("102_funk_95_beat_4-4.mid", "103_funk_95_fill_4-4.mid", "104_funk_95_fill_4-4.mid"):
        (folder / name).write_bytes((gmd_dir / "drummer1" / "session1" / name).read_bytes())
    assert main(["library", "add", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "indexed 3 files from " in out and "the library now has 1 beat to draw on (and 2 fills)" in out
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no midi here\n", encoding="utf-8")
    assert main(["library", "add", str(empty)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no drum MIDI files (.mid, .midi) to index in " in err


def test_the_grid_shows_the_pieces_the_file_plays_on_a_small_kit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kit = tmp_path / "four.toml"
    kit.write_text('name = "four"\n[pieces]\nkick = 36\nsnare = 38\nhihat_closed = 42\nhihat_open = 46\n')
    args = ["generate", "--style", "samba", "--bars", "1", "--variations", "1", "--seed", "1"]
    assert main([*args, "--drum-map", str(kit), "--out", str(tmp_path / "out")]) == 0
    rows = {
        line.split("|")[0].strip() for line in capsys.readouterr().out.splitlines() if line.count("|") >= 2
    }
    pitches = {
        m.note for m in mido.MidiFile(next((tmp_path / "out").glob("*.mid"))).play() if m.type == "note_on"
    }
    assert pitches <= {36, 38, 42, 46}
    assert "Snare" in rows and rows - {"Bar 1"} <= {"Kick", "Snare", "Hi-hat", "HH open"}, (
        rows
    )  # samba's hat pedal plays the hi-hat


def write_kit_file(path: Path, drum_map: str) -> Path:
    """Two bars of a GM groove (open hats keeping time, kick, snare, a tom fill) written for a kit's map."""
    from mididrumigen.midi.notes import Clip, Note
    from mididrumigen.midi.smf import clip_to_midi_bytes

    notes = []
    for step in range(16):
        notes += [Note(46, 80, step * 240, 60), Note((36, 44, 38, 44)[step % 4], 100, step * 240, 60)]
    notes += [Note(pitch, 110, 3840 + i * 120, 60) for i, pitch in enumerate((50, 47, 43, 43))]
    clip = Clip(notes=notes, tempo_bpm=100.0, bars=3)
    path.write_bytes(clip_to_midi_bytes(clip, drum_map=drum_map))
    return path


def test_analyze_reads_a_file_in_its_kits_drum_map(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Addictive Drums 2 puts the open hi-hat on 56 (GM's cowbell), the pedal on 48 (a GM tom),
    # the toms on 65..71 (Latin percussion in GM): read as GM the hats vanish or turn into toms.
    path = write_kit_file(tmp_path / "ad2.mid", "ad2")
    assert main(["analyze", str(path), "--json"]) == 0
    as_gm = json.loads(capsys.readouterr().out)
    assert "hihat_open" not in as_gm["hits_per_bar"] and as_gm["hits_per_bar"]["tom_high"] == pytest.approx(
        8 / 3, abs=0.01
    )
    assert main(["analyze", str(path), "--json", "--drum-map", "AD2"]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["hits_per_bar"]["hihat_open"] == pytest.approx(16 / 3, abs=0.01)
    assert data["hits_per_bar"]["hihat_closed"] == pytest.approx(8 / 3, abs=0.01)  # the pedal
    assert sum(data["hits_per_bar"][t] for t in ("tom_low", "tom_mid", "tom_high")) == pytest.approx(
        4 / 3, abs=0.01
    )
    assert (data["drum_map"], data["unmapped_notes"], data["drum_map_hint"]) == ("ad2", 0, None)
    assert data["tempo_bpm"] == pytest.approx(100.0, rel=0.02)
    assert captured.err == ""
    assert main(["analyze", str(path), "--drum-map", "ad2"]) == 0
    assert "  drum map     ad2 (read as General MIDI)\n" in capsys.readouterr().out


def test_analyze_hints_at_the_map_of_a_file_made_for_another_kit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["analyze", str(write_kit_file(tmp_path / "ad2.mid", "ad2"))]) == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("hint: read as General MIDI, ")
    assert "Addictive Drums 2" in err and err.rstrip().endswith("add --drum-map ad2")
    assert main(["analyze", str(write_kit_file(tmp_path / "ad2.mid", "ad2")), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["drum_map_hint"] == "ad2"
    for kit in ("gm", "ableton", "ezdrummer", "logic", "roland"):  # GM layouts: nothing to say
        assert main(["analyze", str(write_kit_file(tmp_path / f"{kit}.mid", kit))]) == 0
        assert capsys.readouterr().err == ""


def test_analyze_names_the_notes_a_drum_map_does_not_know(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_kit_file(tmp_path / "ad2.mid", "ad2")
    bare = tmp_path / "bare.toml"
    bare.write_text('name = "bare"\n[pieces]\nkick = 36\nsnare = 38\n', encoding="utf-8")
    assert main(["analyze", str(path), "--drum-map", str(bare), "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["unmapped_notes"] == 28
    assert captured.err.startswith(
        "note: 28 of 36 notes (78 %) are on pitches the bare drum map does not know"
    )
    assert "56 (16x), 48 (8x)" in captured.err and captured.err.count("\n") == 1
    nothing = tmp_path / "nothing.toml"
    nothing.write_text('name = "nothing"\n[pieces]\nkick = 100\n', encoding="utf-8")
    result = run_cli("analyze", str(path), "--drum-map", str(nothing), env_home=tmp_path)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "none of the 36 notes is on a pitch the nothing drum map knows" in result.stderr
