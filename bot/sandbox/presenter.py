"""The sandbox's one presenter: what the sandbox did, as front-end-neutral replies.

Operations return :class:`~bot.sandbox.ops.base.Output` (CLI-like text and untranslated
notes); the handlers hand it here with the learner's translator. Output is never cut: it
arrives whole in ``Reply.code`` (bounded only by the sandbox's ``output_bytes`` resource
limit) and each front end fits it to its medium. Engine errors are shown in the engine's own
words, in the learner's names, with a hint in the learner's language.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.core.errors import UserError
from bot.core.i18n import Translator
from bot.core.moments import moment
from bot.core.reply import Choice, ChoiceStyle, Field, Reply, ReplyFile, Tone
from bot.sandbox.ops.base import Note, Output
from bot.settings import SandboxSettings

ACTION = "sandbox"  # the prefix of the sandbox's button actions

# Engine texts and the hint each gets (matched in lower case).
HINTS: tuple[tuple[str, str], ...] = (
    ("no such image", "sandbox.hint.no_such_image"),
    ("already in use", "sandbox.hint.name_in_use"),
    ("already exists", "sandbox.hint.name_in_use"),
    ("is not running", "sandbox.hint.not_running"),
    ("is paused", "sandbox.hint.paused"),
    ("is already paused", "sandbox.hint.paused"),
    ("port is already allocated", "sandbox.hint.port_taken"),
    ("executable file not found", "sandbox.hint.no_executable"),
    ("you cannot remove a running container", "sandbox.hint.remove_running"),
    ("volume is in use", "sandbox.hint.volume_in_use"),
    ("has active endpoints", "sandbox.hint.network_in_use"),
    ("could not find an available", "sandbox.hint.address_pools"),
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
        """The engine's answer (already in the learner's names) with a hint when one fits."""
        lowered = text.lower()
        hint = next((tr(key) for needle, key in HINTS if needle in lowered), "")
        return UserError("sandbox.engine_error", message=text[:1500], hint=hint)

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
        fields = (
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
        return Reply(title=title, fields=fields)

    @staticmethod
    def confirm(tr: Translator, verb: str) -> Reply:
        """Ask before ``reset``/``destroy``: a danger button and a cancel button."""
        return Reply(
            title=tr(f"sandbox.confirm_{verb}_title"),
            body=tr(f"sandbox.confirm_{verb}"),
            tone=Tone.WARNING,
            choices=(
                Choice(
                    tr(f"sandbox.confirm_{verb}_button"),
                    f"{ACTION}:confirm-{verb}",
                    ChoiceStyle.DANGER,
                ),
                Choice(tr("sandbox.cancel_button"), f"{ACTION}:cancel"),
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
