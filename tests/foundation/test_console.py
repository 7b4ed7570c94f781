"""The console front end, driven as a newcomer would: through ``python -m bot console``."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest

from bot.coach import Coach
from bot.console.app import Console
from bot.console.parsing import LineError, parse_line
from bot.core.commands import CommandSpec, Request
from bot.core.reply import Reply, ReplyFile
from bot.settings import Settings
from tests.conftest import make_actor
from tests.support import bot_env, run_bot


def run_console(lines: str, *args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = bot_env(XDG_DATA_HOME=str(tmp_path / "xdg"))
    return run_bot("console", *args, stdin=lines, env=env)


DONE_WHEN = "/concept 볼륨\n/concept volume\n/concept contaner\n/concepts\n"


@pytest.mark.parametrize(
    ("locale", "title", "did_you_mean", "contents"),
    [
        ("ko", "== 볼륨 ==", "혹시 이걸 찾으셨나요?", "도커 개념 ("),
        ("en", "== Volume ==", "Did you mean", "Docker concepts ("),
    ],
)
def test_done_when(
    tmp_path: Path, locale: str, title: str, did_you_mean: str, contents: str
) -> None:
    result = run_console(
        DONE_WHEN, "--locale", locale, "--db", str(tmp_path / "c.db"), tmp_path=tmp_path
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.count(title) == 2
    assert did_you_mean in out
    assert contents in out
    assert "coach>" not in out  # no prompts when stdin is not a terminal
    assert "Traceback" not in out + result.stderr + logged(tmp_path / "c.db")


def test_bad_lines_get_a_short_help_line_never_a_traceback(tmp_path: Path) -> None:
    lines = "/nosuch\nhello\n/concept\n/help concept\n7\n/concept " + "word " * 30 + "\n"
    result = run_console(lines, "--db", str(tmp_path / "c.db"), tmp_path=tmp_path)
    assert result.returncode == 0
    out = result.stdout
    assert "There is no command /nosuch" in out
    assert "Commands start with /" in out
    assert "needs the option `topic`" in out
    assert "There is no choice 7" in out
    assert "Traceback" not in out + result.stderr + logged(tmp_path / "c.db")


def logged(db: Path) -> str:
    """What the console logged (beside its database)."""
    log = db.with_name("console.log")
    return log.read_text(encoding="utf-8") if log.exists() else ""


def test_the_coachs_log_goes_to_a_file_not_into_the_learners_terminal(tmp_path: Path) -> None:
    """The coach's log (every command, the warnings of its background work) is written
    beside the database or where ``--log-file`` says; the terminal shows the coach's
    answers and nothing else, here that the worker cannot be reached."""
    settings = tmp_path / "settings.yaml"
    engine = tmp_path / "no-engine.sock"
    settings.write_text(f"sandbox:\n  workers:\n    - name: gone\n      url: unix://{engine}\n")
    db = tmp_path / "c.db"
    result = run_bot(
        "--settings", str(settings), "console", "--db", str(db), "--no-pager",
        stdin="/docker ps\n", env=bot_env(XDG_DATA_HOME=str(tmp_path / "xdg")),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "WARNING" not in result.stdout and " INFO " not in result.stdout
    assert "unavailable" in result.stdout.lower(), result.stdout
    assert "bot.coach: command command=docker" in logged(db)

    elsewhere = tmp_path / "logs" / "mine.log"
    result = run_bot(
        "--settings", str(settings), "console", "--db", str(db), "--log-file", str(elsewhere),
        stdin="/docker ps\n", env=bot_env(XDG_DATA_HOME=str(tmp_path / "xdg")),
    )  # fmt: skip
    assert result.returncode == 0 and result.stderr == ""
    assert "bot.coach: command command=docker" in elsewhere.read_text(encoding="utf-8")


def test_a_log_file_that_cannot_be_written_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    log = blocker / "console.log"
    result = run_console("/help\n", "--db", str(tmp_path / "c.db"), "--log-file", str(log),
                         tmp_path=tmp_path)  # fmt: skip
    assert result.returncode == 1
    assert f"Cannot write the log to {log}" in result.stderr
    assert "Traceback" not in result.stderr


def piped_console(coach: Coach) -> tuple[Console, io.StringIO]:
    """A console reading nothing and writing to a buffer, as when stdin is not a terminal."""
    out = io.StringIO()
    console = Console(coach, make_actor(), stdin=io.StringIO(""), stdout=out, interactive=False)
    return console, out


async def test_choices_are_numbered_and_pressed(offline_coach: Coach) -> None:
    console, out = piped_console(offline_coach)
    await console.handle("/concept volume")
    assert "[1]" in out.getvalue()
    first = console.choices[0]
    await console.handle("1")
    assert f"== {first.label} ==" in out.getvalue()


async def test_attach_stages_a_file_for_the_next_command_only(
    offline_coach: Coach, tmp_path: Path
) -> None:
    async def seen(request: Request) -> Reply:
        files = [f"{u.filename}={(await u.read()).decode()}" for u in request.actor.uploads]
        return Reply(body="uploads: " + (", ".join(files) or "none"))

    offline_coach.table.add(CommandSpec(("seen",), seen))
    file = tmp_path / "index.html"
    file.write_text("<h1>hi</h1>")
    console, out = piped_console(offline_coach)
    await console.handle(f"/attach {file}")
    assert "index.html (11 bytes)" in out.getvalue()
    await console.handle("/attach /no/such/file")
    assert "Cannot read /no/such/file" in out.getvalue()
    await console.handle("/seen")
    assert "uploads: index.html=<h1>hi</h1>" in out.getvalue()
    await console.handle("/seen")
    assert out.getvalue().rstrip().endswith("uploads: none")  # sent once, with one command


def test_parse_line_uses_the_command_table(library) -> None:
    from bot.core.clock import FixedClock

    coach = Coach(Settings(), library, clock=FixedClock())
    parsed = parse_line(coach.table, "/concept container lifecycle")
    assert parsed.spec.path == ("concept",)
    assert parsed.options == {"topic": "container lifecycle"}
    with pytest.raises(LineError) as caught:
        parse_line(coach.table, "/nosuch thing")
    assert caught.value.key == "general.unknown_command"


async def test_console_lines_follow_the_chosen_language(offline_coach: Coach) -> None:
    console, out = piped_console(offline_coach)
    await console.handle("/attach")
    assert "Type /attach and the path of a file" in out.getvalue()
    console.show([Reply(body="chart", files=(ReplyFile("chart.txt", b"x"),))])
    assert "saved chart.txt to " in out.getvalue()
    await console.handle("/language ko")
    await console.handle("hello")
    assert "명령은 / 로 시작해요" in out.getvalue()
    console.show([Reply(body="chart", files=(ReplyFile("chart.txt", b"x"),))])
    assert "chart.txt 파일을 " in out.getvalue()
    await console.handle("/forget-me")
    assert "번호를 입력해 고르세요." in out.getvalue()


def test_markdown_escapes_are_shown_plainly_in_the_terminal() -> None:
    from bot.console.app import _plain
    from bot.core.text import escape_markdown

    name = "al_ice **bold** [x](y)"
    assert _plain(f"**{escape_markdown(name)}**") == name


def test_moments_are_shown_in_the_local_time_zone(tmp_path: Path) -> None:
    env = bot_env(XDG_DATA_HOME=str(tmp_path / "xdg"), TZ="Asia/Seoul")
    done = run_bot("console", "--db", str(tmp_path / "c.db"), stdin="/quiz 1\n1\n", env=env)
    assert done.returncode == 0, done.stderr
    assert "KST" in done.stdout and "UTC" not in done.stdout  # "next review: … (… KST)"
