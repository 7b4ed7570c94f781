"""Replies built by tests, the same for every front end."""

from __future__ import annotations

from bot.core.reply import Reply


def docker_logs_output(lines: int = 5000) -> str:
    """What ``docker logs web`` prints for a busy web server: ``lines`` access-log lines."""
    return "\n".join(
        f'172.17.0.1 - - [01/Jan/2026:09:{n // 60 % 60:02d}:{n % 60:02d} +0000] "GET /page/{n} '
        f'HTTP/1.1" 200 {600 + n % 97} "-" "curl/8.5.0" line {n + 1:05d}'
        for n in range(lines)
    )


def docker_logs_reply(lines: int = 5000) -> Reply:
    """The sandbox's answer to ``docker logs web``: the whole output, as the core returns it."""
    return Reply(code=docker_logs_output(lines), code_name="docker-logs-web.txt")
