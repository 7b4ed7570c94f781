"""The sandbox's one presenter: what the sandbox did, as front-end-neutral replies.

Operations return :class:`~bot.sandbox.ops.base.Output` (CLI-like text and untranslated
notes); the handlers hand it here with the learner's translator. Output is never cut: it
arrives whole in ``Reply.code`` (bounded only by the sandbox's ``output_bytes`` resource
limit) and each front end fits it to its medium. Engine errors are shown in the engine's own
words, in the learner's names, with a hint in the learner's language — except the worker's
own trouble (no room for networks, a full disk, a broken runtime), which is not the learner's
to fix: that is a message of ours (:data:`WORKER_TROUBLE`), with the infrastructure's title.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.core.errors import Unavailable, UserError
from bot.core.i18n import Translator
from bot.core.moments import moment
from bot.core.reply import Choice, ChoiceStyle, Field, Reply, ReplyFile, Tone
from bot.core.text import human_bytes
from bot.sandbox.ops.base import Note, Output
from bot.sandbox.usage import Usage
from bot.sandbox.watchdog import Stopped
from bot.settings import SandboxSettings

ACTION = "sandbox"  # the prefix of the sandbox's button actions
MANY_FILES = 1000  # a part holding this many files says so (their metadata counts)

# Engine texts and the hint each gets (matched in lower case).
HINTS: tuple[tuple[str, str], ...] = (
    ("no such image", "sandbox.hint.no_such_image"),
    ("already in use", "sandbox.hint.name_in_use"),
    ("network with name", "sandbox.hint.network_name_in_use"),
    ("already exists", "sandbox.hint.name_in_use"),
    ("is not running", "sandbox.hint.not_running"),
    ("is paused", "sandbox.hint.paused"),
    ("is already paused", "sandbox.hint.paused"),
    ("port is already allocated", "sandbox.hint.port_taken"),
    ("executable file not found", "sandbox.hint.no_executable"),
    ("you cannot remove a running container", "sandbox.hint.remove_running"),
    ("volume is in use", "sandbox.hint.volume_in_use"),
    ("has active endpoints", "sandbox.hint.network_in_use"),
    ("disk quota exceeded", "sandbox.hint.disk_quota"),
)

# Engine texts that mean the worker is in trouble, not that the learner did something wrong
# (matched in lower case): the learner gets our message, the log the engine's words.
WORKER_TROUBLE: tuple[tuple[str, str], ...] = (
    ("could not find an available, non-overlapping", "sandbox.networks_full"),
    ("no space left on device", "sandbox.worker_disk_full"),
    ("cannot allocate memory", "sandbox.worker_trouble"),
    ("too many open files", "sandbox.worker_trouble"),
    ("failed to create shim", "sandbox.worker_trouble"),
    ("containerd", "sandbox.worker_trouble"),
    ("context deadline exceeded", "sandbox.worker_trouble"),
    ("error creating overlay mount", "sandbox.worker_trouble"),
    ("driver failed programming", "sandbox.worker_trouble"),
    ("input/output error", "sandbox.worker_trouble"),
    ("read-only file system", "sandbox.worker_trouble"),
)


@dataclass(frozen=True, slots=True)
class SandboxStatus:
    """What ``/sandbox`` shows about the learner's sandbox."""

    worker: str
    stopped: bool
    containers: tuple[tuple[str, str], ...]  # (name, state)
    volumes: tuple[str, ...]
    networks: tuple[str, ...]
    stops_at: datetime
    destroyed_at: datetime
    aside: tuple[tuple[str, datetime], ...] = ()  # (worker, created) of sandboxes kept aside
    disk: Usage | None = None  # None: could not be measured now
    disk_limited: bool | None = None  # the worker caps each container (None: not known)
    over_budget: bool = False

    @property
    def running(self) -> int:
        return sum(1 for _name, state in self.containers if state == "running")


class Presenter:
    """Stateless: the settings a reply quotes are passed in."""

    # command output -------------------------------------------------------------------
    @staticmethod
    def output(tr: Translator, out: Output, before: Sequence[Note] = ()) -> Reply:
        """A command's whole output as code, its notes (``before`` first) as the body."""
        text = out.text.rstrip("\n")
        body = Presenter.notes(tr, [*before, *out.notes])
        if not text and not body:
            body = tr("sandbox.done")
        return Reply(
            body=body,
            code=text or None,
            code_name=out.name,
            tone=Tone.WARNING if out.error else Tone.INFO,
            files=tuple(ReplyFile(name, data) for name, data in out.files),
        )

    @staticmethod
    def notes(tr: Translator, notes: Sequence[Note]) -> str:
        shown = dict.fromkeys(tr(n.key, **n.params) for n in notes)  # each once, in order
        return "\n".join(shown)

    @staticmethod
    def engine_error(tr: Translator, text: str) -> UserError:
        """The engine's answer (already in the learner's names) with a hint when one fits;
        the worker's own trouble as our message (:class:`Unavailable`)."""
        lowered = text.lower()
        hint = next((tr(key) for needle, key in HINTS if needle in lowered), "")
        trouble = next((key for needle, key in WORKER_TROUBLE if needle in lowered), None)
        if trouble is not None and not hint:  # the learner's own doing wins (a taken port)
            return Unavailable(trouble)
        return UserError("sandbox.engine_error", message=text[:1500], hint=hint)

    @staticmethod
    def repaired(tr: Translator, repaired: Sequence[str]) -> Reply:
        """What had to be made again before the command (the host shell, the network)."""
        lines = [tr(f"sandbox.repaired.{what}") for what in repaired]
        return Reply(body="\n".join(lines), tone=Tone.WARNING)

    @staticmethod
    def uploaded(tr: Translator, names: Sequence[str], home: str) -> Reply:
        return Reply(body=tr("sandbox.uploaded", files=", ".join(names), home=home))

    @staticmethod
    def download(tr: Translator, path: str, filename: str, data: bytes) -> Reply:
        return Reply(
            body=tr("sandbox.download", path=path, size=len(data)),
            files=(ReplyFile(filename, data),),
        )

    # /sandbox -----------------------------------------------------------------------
    @staticmethod
    def status(tr: Translator, status: SandboxStatus | None, settings: SandboxSettings) -> Reply:
        title = tr("sandbox.status_title")
        if status is None:
            return Reply(title=title, body=tr("sandbox.status_none"))
        quotas, limits = settings.quotas, settings.limits
        containers = ", ".join(f"{name} ({state})" for name, state in status.containers) or "—"
        fields: tuple[Field, ...] = (
            Field(tr("sandbox.field.worker"), status.worker, True),
            Field(
                tr("sandbox.field.state"),
                tr("sandbox.state_stopped") if status.stopped else tr("sandbox.state_running"),
                True,
            ),
            Field(
                tr("sandbox.field.containers"),
                f"{containers}\n"
                + tr("sandbox.usage", used=len(status.containers), limit=quotas.containers)
                + " · "
                + tr("sandbox.running_usage", used=status.running, limit=quotas.running_containers),
            ),
            _usage_field(tr, "volumes", status.volumes, quotas.volumes),
            _usage_field(tr, "networks", status.networks, quotas.networks),
            _disk_field(tr, status, settings),
            Field(
                tr("sandbox.field.limits"),
                tr(
                    "sandbox.limits",
                    memory=limits.memory_bytes // (1024 * 1024),
                    cpus=limits.nano_cpus / 1e9,
                    pids=limits.pids,
                    output=settings.output_bytes // 1024,
                    seconds=round(settings.exec_timeout_seconds),
                ),
            ),
            Field(
                tr("sandbox.field.expiry"),
                tr(
                    "sandbox.expiry",
                    stop=moment(status.stops_at),
                    destroy=moment(status.destroyed_at),
                ),
            ),
        )
        if status.aside:
            kept = ", ".join(
                tr("sandbox.aside_item", worker=worker, created=moment(created))
                for worker, created in status.aside
            )
            fields += (Field(tr("sandbox.field.aside"), tr("sandbox.aside", kept=kept)),)
        return Reply(title=title, fields=fields)

    # the disk budget ---------------------------------------------------------------
    @staticmethod
    def over_budget(tr: Translator, usage: Usage, budget: int, key: str) -> UserError:
        """A refusal of a command that writes while the sandbox is over its disk budget."""
        return UserError(
            key,
            used=human_bytes(usage.total),
            budget=human_bytes(budget),
            parts=disk_parts(tr, usage),
        )

    @staticmethod
    def disk_notice(tr: Translator, stopped: Stopped) -> Reply:
        """What the disk watchdog did to hold the sandbox to its budget."""
        names = ", ".join(_part_name(tr, kind, name) for kind, name in stopped.stopped)
        if stopped.about_to:
            key = "sandbox.disk.stopped_before"
        elif names:
            key = "sandbox.disk.stopped_over"
        else:
            key = "sandbox.disk.now_over"
        body = tr(
            key,
            used=human_bytes(stopped.usage.total),
            budget=human_bytes(stopped.budget),
            stopped=names,
            parts=disk_parts(tr, stopped.usage),
        )
        return Reply(title=tr("sandbox.disk.notice_title"), body=body, tone=Tone.WARNING)

    @staticmethod
    def confirm(tr: Translator, verb: str, owner: str) -> Reply:
        """Ask before ``reset``/``destroy``: a danger button and a cancel button, both the
        asker's only (a shared question is pressable by everyone who sees it)."""
        return Reply(
            title=tr(f"sandbox.confirm_{verb}_title"),
            body=tr(f"sandbox.confirm_{verb}"),
            tone=Tone.WARNING,
            choices=(
                Choice(
                    tr(f"sandbox.confirm_{verb}_button"),
                    f"{ACTION}:confirm-{verb}:{owner}",
                    ChoiceStyle.DANGER,
                ),
                Choice(tr("sandbox.cancel_button"), f"{ACTION}:cancel:{owner}"),
            ),
        )

    @staticmethod
    def done(tr: Translator, key: str) -> Reply:
        return Reply(body=tr(key), tone=Tone.SUCCESS)

    @staticmethod
    def plain(tr: Translator, key: str) -> Reply:
        return Reply(body=tr(key))


def _usage_field(tr: Translator, kind: str, names: tuple[str, ...], limit: int) -> Field:
    """An inline status field: the user's objects of a kind and their quota use."""
    value = (", ".join(names) or "—") + " · " + tr("sandbox.usage", used=len(names), limit=limit)
    return Field(tr(f"sandbox.field.{kind}"), value, True)


def _part_name(tr: Translator, kind: str, name: str) -> str:
    return tr(f"sandbox.disk.part.{kind}", name=name)


def disk_parts(tr: Translator, usage: Usage) -> str:
    """What takes the sandbox's disk space, largest first, one line each."""
    lines = []
    for part in usage.biggest():
        size = human_bytes(part.cost(usage.file_bytes))
        files = tr("sandbox.disk.files", count=part.files) if part.files >= MANY_FILES else ""
        lines.append(f"• {_part_name(tr, part.kind, part.name)}: {size}{files}")
    return "\n".join(lines) or tr("sandbox.disk.nothing")


def _disk_field(tr: Translator, status: SandboxStatus, settings: SandboxSettings) -> Field:
    budget = settings.disk.budget_bytes
    if status.disk is None:
        value = tr("sandbox.disk.unknown", budget=human_bytes(budget))
    else:
        used = status.disk.total
        value = tr(
            "sandbox.disk.usage",
            used=human_bytes(used),
            budget=human_bytes(budget),
            percent=min(999, round(100 * used / budget)),
        )
        if status.over_budget:
            value += "\n" + tr("sandbox.disk.status_over")
        if used:
            value += "\n" + disk_parts(tr, status.disk)
    writable = human_bytes(settings.limits.writable_bytes)
    if status.disk_limited:
        value += "\n" + tr("sandbox.disk.per_container", writable=writable)
    elif status.disk_limited is False:
        value += "\n" + tr("sandbox.disk.per_container_watched")
    return Field(tr("sandbox.field.disk"), value)
