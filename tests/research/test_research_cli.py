"""The research CLI commands, run as a user would, against the fake services."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from tests.fakes.research_servers import ARTIST, FakeResearchServer

REPO = Path(__file__).resolve().parents[2]


def cli_env(server: FakeResearchServer, home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            f"MIDIDRUMIGEN_{name.upper()}": ",".join(value) if isinstance(value, list) else str(value)
            for name, value in server.settings().items()
        }
    )
    env["MIDIDRUMIGEN_CONFIG_DIR"] = str(home / "config")
    env["MIDIDRUMIGEN_DATA_DIR"] = str(home / "data")
    env["PYTHONPATH"] = str(REPO)
    return env


async def run_cli(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mididrumigen",
        *args,
        env=env,
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    return int(process.returncode or 0), out.decode(), err.decode()


@pytest.mark.slow  # loads the real embedding model (~10 s)
async def test_research_then_show_a_profile(fake_server: FakeResearchServer, isolated_dirs: Path) -> None:
    env = cli_env(fake_server, isolated_dirs)
    code, out, err = await run_cli(env, "research", ARTIST, "--only", "papers,articles,midi")
    assert code == 0, err
    assert "papers" in err and "100%" in err  # the live progress bars go to stderr
    assert "research: Tessa Marlowe" in out
    assert "styles: funk" in out and "confidence:" in out
    code, out, err = await run_cli(env, "profiles", "show", ARTIST, "--json")
    assert code == 0, err
    shown = json.loads(out)
    assert shown["profile"]["artist_name"] == ARTIST
    assert shown["profile"]["sources_count"]["midi"] == 3
    assert {s["kind"] for s in shown["sources"]} == {"paper", "article", "midi"}
    code, out, err = await run_cli(env, "profiles", "list")
    assert code == 0 and ARTIST in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("profiles", "show", "Nobody Atall"),
            "unknown artist 'Nobody Atall' (or research it first: mididrumigen research 'Nobody Atall')",
        ),
        # as generate says it: the close built-in name, then the command that researches the one typed
        (
            ("profiles", "show", "Danny Careyyy Xq"),
            "did you mean Danny Carey? (or research it first: mididrumigen research",
        ),
        (
            ("similar", "Danny Careyyy Xq"),
            "unknown artist 'Danny Careyyy Xq'; did you mean Danny Carey? (or research it",
        ),
        (("research", "   "), "artist name is empty"),
        (("research", ARTIST, "--only", "video"), "unknown collector 'video'"),
        (("similar", ARTIST, "--limit", "0"), "--limit must be from 1 to 100"),
    ],
)
async def test_bad_input_is_one_line_and_exit_code_2(
    fake_server: FakeResearchServer, isolated_dirs: Path, args: tuple[str, ...], message: str
) -> None:
    code, _out, err = await run_cli(cli_env(fake_server, isolated_dirs), *args)
    assert code == 2
    assert err.strip().count("\n") == 0 and message in err


TYPO = "Danny Careyyy Xq"  # no built-in knowledge and none at the fake services; close to Danny Carey


async def listed_names(env: dict[str, str], daemon: str) -> set[str]:
    code, out, err = await run_cli(env, "artists", "--json", "--daemon", daemon)
    assert code == 0, err
    return {row["name"] for row in json.loads(out)}


async def test_research_that_finds_nothing_leaves_no_artist_with_or_without_a_daemon(
    fake_server: FakeResearchServer, isolated_dirs: Path
) -> None:
    from mididrumigen.daemon import discover, read_discovery

    env = cli_env(fake_server, isolated_dirs)
    code, out, err = await run_cli(env, "research", TYPO, "--only", "papers,articles,midi", "--json")
    assert code == 2 and out == ""
    assert err.strip().count("\n") == 0 and "Traceback" not in err
    line = err.strip()
    assert line.startswith(f"mididrumigen: error: no sources found for {TYPO!r}; did you mean Danny Carey?")
    assert TYPO not in await listed_names(env, "no")
    # the same with a daemon running: the store is shared, the CLI finds the daemon through daemon.json
    daemon = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mididrumigen",
        "serve",
        env=env | {"MIDIDRUMIGEN_PORT": "0"},
        cwd=REPO,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        for _ in range(300):
            info = read_discovery()
            if info is not None and info.pid == daemon.pid and await asyncio.to_thread(discover) is not None:
                break
            assert daemon.returncode is None
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the daemon did not start")
        code, out, err = await run_cli(env, "research", TYPO, "--only", "papers,articles,midi")
        *bars, last = err.strip().splitlines()  # without --json the collectors' progress bars come first
        assert code == 2 and last == line and len(bars) == 3 and all("0 sources" in bar for bar in bars)
        assert "John Bonham" in (via_daemon := await listed_names(env, "yes")) and TYPO not in via_daemon
        assert TYPO not in await listed_names(env, "no")
    finally:
        daemon.terminate()
        await asyncio.wait_for(daemon.wait(), 20)


async def test_research_offline_prints_no_warnings_before_the_bars_unless_verbose(
    fake_server: FakeResearchServer, isolated_dirs: Path
) -> None:
    # Every service on a host name that does not resolve (RFC 6761 .invalid), as offline: each fails at once
    # (no retries), and the bars and the one error line say so without a warning per service before them.
    env = cli_env(fake_server, isolated_dirs)
    env.update(
        {
            key: value.replace(fake_server.base_url, "http://research.invalid")
            for key, value in env.items()
            if key.startswith("MIDIDRUMIGEN_")
        }
    )
    args = ("research", "Carlton Barrett", "--only", "papers,articles,midi")
    code, out, err = await run_cli(env, *args)
    assert code == 2 and out == ""
    assert "is unavailable" not in err and "WARNING" not in err
    error = [line for line in err.splitlines() if line.startswith("mididrumigen: error:")]
    assert error == [
        "mididrumigen: error: no new sources found for 'Carlton Barrett' (no research service could"
        " be reached: is this computer offline?); its profile is unchanged"
    ]
    code, out, err = await run_cli(env, *args, "--verbose")
    assert code == 2 and "is unavailable (cannot reach research.invalid" in err
