"""Audio rhythm analysis on synth renders with a known truth (tests/audio_synth.py)."""

from __future__ import annotations

import math
import subprocess
from pathlib import Path

import numpy as np
import pytest

from mididrumigen.analysis import audio_features as af
from mididrumigen.midi.notes import Clip, Note
from tests.audio_synth import clip_hits, midi_file_hits, render_clip, render_hits, render_midi_file, write_wav

SR = 22050
GMD_DIR = Path("/work/shared/corpus/gmd")
TPB = 480


def rock_clip(tempo_bpm: float = 120.0, bars: int = 8) -> Clip:
    """Straight 8th hats, kick on 1 and 3 (and the 'and' of 3), snare on 2 and 4."""
    notes = []
    for bar in range(bars):
        start = bar * 4 * TPB
        for eighth in range(8):
            notes.append(Note(42, 100 if eighth % 2 == 0 else 70, start + eighth * TPB // 2, 60))
        for beat in (0, 2):
            notes.append(Note(36, 110, start + beat * TPB, 60))
        notes.append(Note(36, 90, start + 2 * TPB + TPB // 2, 60))
        for beat in (1, 3):
            notes.append(Note(38, 115, start + beat * TPB, 60))
    return Clip(notes=notes, tempo_bpm=tempo_bpm, bars=bars)


def swung_clip(percent: float, tempo_bpm: float = 110.0, bars: int = 8) -> Clip:
    """Ride in swung 8ths at `percent`, kick on 1 and 3, snare on 2 and 4."""
    offbeat = round(TPB * percent / 100.0)
    notes = []
    for bar in range(bars):
        start = bar * 4 * TPB
        for beat in range(4):
            notes.append(Note(51, 105, start + beat * TPB, 60))
            notes.append(Note(51, 80, start + beat * TPB + offbeat, 60))
            notes.append(Note(36 if beat % 2 == 0 else 38, 110, start + beat * TPB, 60))
    return Clip(notes=notes, tempo_bpm=tempo_bpm, bars=bars)


def within_percent(value: float, truth: float, percent: float) -> bool:
    return abs(value / truth - 1.0) <= percent / 100.0


def test_synth_renders_known_hits() -> None:
    audio = render_clip(rock_clip(bars=1))
    assert audio.dtype == np.float32
    assert math.isclose(len(audio) / SR, 2.0 + 0.5, abs_tol=0.01)
    assert 0.1 < float(np.max(np.abs(audio))) <= 0.9
    # A hit at 1.0 s: silence before it, sound right after it.
    single = render_hits([(1.0, 38, 100)], sample_rate_hz=SR)
    assert np.max(np.abs(single[: int(0.99 * SR)])) == 0.0
    assert np.max(np.abs(single[int(1.0 * SR) : int(1.05 * SR)])) > 0.1


def test_straight_rock_120_bpm() -> None:
    features = af.analyze_audio(render_clip(rock_clip(120.0)), SR)
    assert within_percent(features.tempo_bpm, 120.0, 4), features.tempo_bpm
    assert abs(features.swing_ratio - 1.0) <= 0.1
    assert features.backend == "librosa"
    # Beats every 0.5 s, aligned with the hits.
    beats = np.array(features.beat_times_s)
    assert len(beats) >= 28
    assert np.allclose(np.diff(beats), 0.5, atol=0.02)
    offsets = (beats / 0.5) - np.rint(beats / 0.5)
    assert np.max(np.abs(offsets)) < 0.06
    assert 0.0 <= features.confidence <= 1.0
    assert features.confidence >= 0.5


def test_swung_eighths_66_percent() -> None:
    features = af.analyze_audio(render_clip(swung_clip(66.7)), SR)
    assert within_percent(features.tempo_bpm, 110.0, 4), features.tempo_bpm  # swung_clip's tempo
    assert abs(features.swing_ratio - 2.0) <= 0.1, features.swing_ratio
    assert abs(features.swing_percent - 66.7) <= 1.2


def test_swing_ratio_follows_the_played_swing() -> None:
    light = af.analyze_audio(render_clip(swung_clip(58.0)), SR)
    assert within_percent(light.tempo_bpm, 110.0, 4), light.tempo_bpm
    assert abs(light.swing_ratio - 58.0 / 42.0) <= 0.1, light.swing_ratio


def test_microtiming_shows_a_laid_back_snare() -> None:
    clip = rock_clip(100.0, bars=8)
    late_ticks = round(25.0 / 1000.0 * 100.0 / 60.0 * TPB)  # 25 ms at 100 bpm
    clip.notes = [
        Note(n.pitch, n.velocity, n.time + late_ticks, n.duration) if n.pitch == 38 else n for n in clip.notes
    ]
    features = af.analyze_audio(render_clip(clip), SR)
    assert within_percent(features.tempo_bpm, 100.0, 4)
    assert "snare" in features.microtiming_ms and "kick" in features.microtiming_ms
    # 25 ms were added; band leakage (kick click and snare noise share bands) dilutes it.
    assert features.microtiming_ms["snare"] - features.microtiming_ms["kick"] > 8.0, features.microtiming_ms


@pytest.mark.xfail(
    strict=True,
    reason="known weakness: the velocity-25 ghost snares are detected, but their band shape (low band "
    "over mid) reads as a soft kick, so they never count as snare hits",
)
def test_ghost_notes_are_measured() -> None:
    plain = af.analyze_audio(render_clip(rock_clip(100.0)), SR)
    clip = rock_clip(100.0)
    clip.notes += [
        Note(38, 25, bar * 4 * TPB + beat * TPB + 3 * TPB // 4, 30) for bar in range(8) for beat in (0, 2)
    ]
    assert af.analyze_audio(render_clip(clip), SR).ghost_note_share > plain.ghost_note_share


def test_syncopation_is_measured() -> None:
    plain = af.analyze_audio(render_clip(rock_clip(100.0)), SR)
    clip = rock_clip(100.0)
    extra = []
    for bar in range(8):
        start = bar * 4 * TPB
        extra += [Note(38, 25, start + beat * TPB + 3 * TPB // 4, 30) for beat in (0, 2)]  # ghost 16ths
        extra.append(Note(36, 110, start + 3 * TPB + TPB // 2, 60))  # kick anticipating the next 1
    clip.notes = [
        n for n in clip.notes if not (n.pitch == 36 and n.time % (4 * TPB) == 0 and n.time > 0)
    ] + extra
    busy = af.analyze_audio(render_clip(clip), SR)
    assert busy.syncopation > plain.syncopation
    assert 0.0 <= busy.syncopation <= 1.0


def test_features_to_json_round_trips() -> None:
    import json

    features = af.analyze_audio(render_clip(rock_clip()), SR)
    data = json.loads(features.to_json_text())
    assert data["tempo_bpm"] == features.tempo_bpm
    assert isinstance(data["beat_times_s"], list)
    assert set(data["microtiming_ms"]) <= {"kick", "snare", "hihat_closed"}


def test_wav_file_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "rock.wav"
    write_wav(path, render_clip(rock_clip()), SR)
    features = af.analyze_audio_file(path)
    assert within_percent(features.tempo_bpm, 120.0, 4)


def _encode(tmp_path: Path, wav: Path, suffix: str, codec: str) -> Path:
    import imageio_ffmpeg

    out = tmp_path / f"clip{suffix}"
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-v",
            "error",
            "-y",
            "-i",
            str(wav),
            "-c:a",
            codec,
            "-b:a",
            "128k",
            str(out),
        ],
        check=True,
        timeout=60,
    )
    return out


@pytest.mark.parametrize(("suffix", "codec"), [(".mp3", "libmp3lame"), (".m4a", "aac")])
def test_compressed_files_decode_through_imageio_ffmpeg(tmp_path: Path, suffix: str, codec: str) -> None:
    wav = tmp_path / "source.wav"
    write_wav(wav, render_clip(rock_clip(120.0)), SR)
    encoded = _encode(tmp_path, wav, suffix, codec)
    samples = af.decode_audio_file(encoded)
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert abs(len(samples) / SR - 16.5) < 0.2  # encoder padding only
    # Decoding is what this test is about: the decoded audio must match the source closely.
    source = af.decode_audio_file(wav)
    lag = int(np.argmax(np.correlate(samples[: SR * 2], source[:SR], mode="valid")))
    overlap = min(len(source), len(samples) - lag)
    similarity = np.corrcoef(source[:overlap], samples[lag : lag + overlap])[0, 1]
    assert similarity > 0.6, similarity  # lossy codecs blur the hats noise; unrelated audio scores ~0


def test_other_sample_rates_and_stereo_are_accepted() -> None:
    import librosa

    mono = render_clip(rock_clip(120.0))
    resampled = librosa.resample(mono, orig_sr=SR, target_sr=44100)
    stereo = np.stack([resampled, resampled], axis=1)
    features = af.analyze_audio(stereo, 44100)
    assert within_percent(features.tempo_bpm, 120.0, 4)


def test_garbage_file_is_a_value_error(tmp_path: Path) -> None:
    for name in ("noise.mp3", "noise.wav", "noise.webm"):
        path = tmp_path / name
        path.write_bytes(b"this is not audio at all " * 200)
        with pytest.raises(ValueError, match="not a"):
            af.analyze_audio_file(path)
    with pytest.raises(ValueError, match="not found"):
        af.analyze_audio_file(tmp_path / "missing.wav")


def test_silent_and_short_audio_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="silent"):
        af.analyze_audio(np.zeros(SR * 5, dtype=np.float32), SR)
    with pytest.raises(ValueError, match="too short"):
        af.analyze_audio(np.ones(SR // 4, dtype=np.float32), SR)
    with pytest.raises(ValueError, match="nan"):
        af.analyze_audio(np.full(SR * 2, np.nan, dtype=np.float32), SR)
    with pytest.raises(ValueError, match="no rhythm"):
        af.analyze_audio(render_hits([(0.5, 38, 100)], duration_s=4.0, sample_rate_hz=SR), SR)


def test_unknown_backend_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown audio backend"):
        af.analyze_audio(render_clip(rock_clip()), SR, backend="aubio")


def test_swing_percent_definition() -> None:
    straight = np.array([k + f for k in range(8) for f in (0.0, 0.5)])
    assert af.swing_percent_from_positions(straight) == 50.0
    triplet = np.array([k + f for k in range(8) for f in (0.0, 2 / 3)])
    assert abs(af.swing_percent_from_positions(triplet) - 66.67) < 0.01
    sixteenths = np.array([k + f for k in range(8) for f in (0.0, 0.29, 0.5, 0.79)])
    assert abs(af.swing_percent_from_positions(sixteenths, "16th") - 58.0) < 0.01
    assert af.swing_percent_from_positions(sixteenths, "8th") == 50.0
    assert math.isclose(af.swing_ratio_of_percent(66.6667), 2.0, rel_tol=1e-3)


def test_importing_the_analysis_package_stays_light() -> None:
    code = "import sys, mididrumigen.analysis.audio_features; print('librosa' in sys.modules, 'scipy' in sys.modules)"
    out = subprocess.run(
        [".venv/bin/python", "-c", code], capture_output=True, text=True, check=True, cwd="/work/main"
    )
    assert out.stdout.strip() == "False False"


GMD_CASES = [
    ("drummer1/session1/101_dance-disco_120_beat_4-4.mid", 120.0),
    pytest.param(
        "drummer1/session1/1_funk_80_beat_4-4.mid",
        80.0,
        marks=pytest.mark.xfail(
            strict=True, reason="known weakness: its first 30 s read at double tempo (160 bpm)"
        ),
    ),
]


@pytest.mark.parametrize(("midi_filename", "bpm"), GMD_CASES)
def test_gmd_renders(midi_filename: str, bpm: float) -> None:
    path = GMD_DIR / midi_filename
    if not path.exists():
        pytest.skip("the Groove MIDI Dataset is not on this machine")
    features = af.analyze_audio(render_midi_file(path, max_duration_s=30.0), SR)
    assert within_percent(features.tempo_bpm, bpm, 4), features.tempo_bpm
    assert features.onset_count > 30
    assert len(midi_file_hits(path, max_duration_s=30.0)) >= features.onset_count * 0.8


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason="known weakness: reads 1.97 for a MIDI truth of 2.08 (swung GMD files: see the benchmark)",
)
def test_gmd_swing_performance_matches_midi() -> None:
    assert_gmd_swing_matches_midi("drummer1/session1/47_jazz_102_beat_4-4.mid", 102.0)


def assert_gmd_swing_matches_midi(relative_path: str, tempo_bpm: float) -> None:
    """A swung GMD performance rendered to audio: tempo right, and swing within 0.1 of the MIDI's."""
    from tests.benchmarks.audio_tempo import midi_swing_ratio

    path = GMD_DIR / relative_path
    if not path.exists():
        pytest.skip("the Groove MIDI Dataset is not on this machine")
    hits = midi_file_hits(path, max_duration_s=60.0)
    features = af.analyze_audio(render_hits(hits, sample_rate_hz=SR), SR)
    assert within_percent(features.tempo_bpm, tempo_bpm, 4), features.tempo_bpm
    truth = midi_swing_ratio(hits, tempo_bpm)
    assert truth > 1.3  # the performance really swings
    assert abs(features.swing_ratio - truth) <= 0.1, (features.swing_ratio, truth)


@pytest.mark.slow
def test_gmd_swing_survives_a_tracker_on_the_off_beat() -> None:
    """Librosa's tracker sits on the swing's off-beat (a third of a beat early) through this
    excerpt; the rephased grid reads the swing against the played beats (1.65 before it)."""
    assert_gmd_swing_matches_midi("drummer8/session1/12_latin_118_beat_4-4.mid", 118.0)


def test_rephasing_moves_a_grid_slid_onto_the_off_beat_back() -> None:
    """Beats that slide a third of a beat early for a few bars return onto the hits."""
    period = 0.5
    true_beats = np.arange(64) * period + 1.0
    slide = np.clip(np.minimum(np.arange(64) - 16, 40 - np.arange(64)) / 8.0, 0.0, 1.0) / 3.0
    tracked = true_beats - slide * period
    # Hits on every beat, a louder swung off-beat on every other one.
    offbeats = true_beats[1::2] + 2.0 / 3.0 * period
    times = np.concatenate([true_beats, offbeats])
    strength = np.concatenate([np.full(len(true_beats), 1.0), np.full(len(offbeats), 1.3)])
    order = np.argsort(times)
    rephased = af.rephase_beats_s(tracked, times[order], strength[order])
    assert np.max(np.abs(tracked - true_beats)) > 0.15
    assert np.max(np.abs(rephased - true_beats)[4:-4]) < 0.03, np.abs(rephased - true_beats)


@pytest.mark.slow
def test_madmom_backend_when_installed() -> None:
    from mididrumigen.analysis.madmom_shim import madmom_available

    if not madmom_available():
        pytest.skip("madmom (optional extra) is not installed")
    features = af.analyze_audio(render_clip(rock_clip(120.0)), SR, backend="madmom")
    assert features.backend == "madmom"
    assert within_percent(features.tempo_bpm, 120.0, 4) or within_percent(features.tempo_bpm, 60.0, 4)


def test_quiet_off_beats_under_loud_beats_are_detected() -> None:
    clip = swung_clip(58.0)
    onsets = af.detect_onsets(af.onset_envelopes(render_clip(clip), SR))
    truth = np.array(sorted({t for t, _, _ in clip_hits(clip)}))
    found = np.min(np.abs(truth[:, None] - onsets.times_s[None, :]), axis=1) < 0.03
    assert found.all(), truth[~found]
    assert onsets.band_strength is not None and onsets.band_strength.shape == (len(onsets), 3)


def test_onset_times_are_refined_to_the_attacks() -> None:
    clip = swung_clip(66.7)
    audio = render_clip(clip)
    envelopes = af.onset_envelopes(audio, SR)
    onsets = af.detect_onsets(envelopes)
    refined = af.refine_onset_times_s(onsets.times_s, audio, SR)
    truth = np.array(sorted({t for t, _, _ in clip_hits(clip)}))
    error_ms = 1000.0 * np.min(np.abs(refined[:, None] - truth[None, :]), axis=1)
    # Kick/snare and ride hits alike land within a few ms of the written time.
    assert np.median(error_ms) < 2.0 and np.percentile(error_ms, 90) < 4.0, error_ms


def half_time_hip_hop_clip(tempo_bpm: float, bars: int = 8) -> Clip:
    """16th hats (accents on the 8ths), kick on 1 and the 'and' of 3, snare on 2 and 4."""
    notes = []
    for bar in range(bars):
        start = bar * 4 * TPB
        for sixteenth in range(16):
            notes.append(Note(42, 100 if sixteenth % 2 == 0 else 60, start + sixteenth * TPB // 4, 60))
        notes.append(Note(36, 110, start, 60))
        notes.append(Note(36, 110, start + 2 * TPB + TPB // 2, 60))
        for beat in (1, 3):
            notes.append(Note(38, 120, start + beat * TPB, 60))
    return Clip(notes=notes, tempo_bpm=tempo_bpm, bars=bars)


@pytest.mark.parametrize("tempo_bpm", [60.0, 72.0])
def test_a_backbeat_counts_a_slow_groove_read_in_its_eighths(tempo_bpm: float) -> None:
    # The bands alone hear the 8ths (16th hats) as the beat; the snare on 2 and 4 says they are halves.
    audio = render_clip(half_time_hip_hop_clip(tempo_bpm))
    envelopes = af.onset_envelopes(audio, SR)
    onsets = af.detect_onsets(envelopes)
    assert af.counted_audio_tempo_bpm(onsets, 2.0 * tempo_bpm) is not None
    features = af.analyze_audio(audio, SR)
    assert within_percent(features.tempo_bpm, tempo_bpm, 4), features.tempo_bpm


def test_the_counting_cues_never_speed_a_slow_backbeat_up() -> None:
    # A 60 bpm backbeat with its kick on 1 under a hat can look like a half-time snare on 3 at 120.
    clip = rock_clip(60.0)
    clip.notes = [n for n in clip.notes if n.pitch != 36 or n.time % (4 * TPB) == 0]
    features = af.analyze_audio(render_clip(clip), SR)
    assert within_percent(features.tempo_bpm, 60.0, 4), features.tempo_bpm


def test_onsets_read_as_kit_hits() -> None:
    clip = rock_clip(100.0)
    onsets = af.detect_onsets(af.onset_envelopes(render_clip(clip), SR))
    pitches, velocities = af.onsets_as_kit_hits(onsets)
    assert pitches.shape == velocities.shape == (len(onsets),)
    assert velocities.min() >= 1 and velocities.max() <= 127
    beat_s = 60.0 / 100.0
    snare_times = np.array([n.time / TPB * beat_s for n in clip.notes if n.pitch == 38])
    read_as_snare = onsets.times_s[pitches == 38]
    # Every snare (on 2 and 4) reads as one, and nothing on 1 or 3 (kicks under hats) does.
    assert np.all(np.min(np.abs(snare_times[:, None] - read_as_snare[None, :]), axis=1) < 0.03)
    positions = read_as_snare / beat_s
    assert np.all(np.rint(positions) % 2 == 1), positions
    with pytest.raises(ValueError):
        af.onsets_as_kit_hits(af.Onsets(onsets.times_s, onsets.strength, onsets.band))
    assert af.counted_audio_tempo_bpm(af.Onsets(onsets.times_s, onsets.strength, onsets.band), 100.0) is None
