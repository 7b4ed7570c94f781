"""Settings: one YAML file plus ``COACH_*`` environment overrides, validated at start.

Every key has a default, so the coach runs with no file at all. Environment variables
override the file: ``COACH_SANDBOX__SEARCH_INDEX=127.0.0.1:5001`` sets ``sandbox.search_index``
(``__`` separates levels; JSON is accepted for lists and tables). ``DISCORD_TOKEN`` is
accepted for ``discord.token``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.core.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "COACH_"
MIB = 1024 * 1024


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "docker-coach"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WorkerSettings(_Section):
    """A Docker engine that hosts sandboxes."""

    name: str = "local"
    url: str | None = Field(
        default=None,
        description="unix://, tcp:// or ssh:// address; None uses the environment (DOCKER_HOST).",
    )
    tls_verify: bool = False
    tls_ca_cert: Path | None = None
    tls_client_cert: Path | None = None
    tls_client_key: Path | None = None
    max_sandboxes: int | None = Field(
        default=None,
        ge=1,
        description="Most sandboxes on this worker; None: as many as the engine holds (its "
        "address pools and memory, see memory_per_sandbox_bytes). Never more than its pools.",
    )
    memory_per_sandbox_bytes: int = Field(
        default=40 * 1024 * 1024,
        ge=1024 * 1024,
        description="Worker memory planned per sandbox when max_sandboxes is None "
        "(docs/deploy.md: 1 GiB per 25 sandboxes).",
    )
    address_pool_networks: int | None = Field(
        default=None,
        ge=1,
        description="Networks the engine's default-address-pools hold; None: read from the "
        "engine (docker info), or Docker's built-in pools (31 networks) if it does not say.",
    )
    warm_pool: int = Field(
        default=4,
        ge=0,
        description="Sandboxes kept ready for new learners (they count towards the worker's "
        "capacity like any other sandbox; 0: none).",
    )
    concurrent_starts: int = Field(
        default=64,
        ge=1,
        description="Container creations and starts the coach runs on this engine at once.",
    )
    start_timeout_seconds: float = Field(
        default=60.0,
        gt=0,
        description="How long one container creation or start may take on this engine before "
        "the learner is told it is slow (a class's burst makes each slower; at least the API "
        "timeout).",
    )


class ContainerLimits(_Section):
    """Limits applied to every container the coach creates (CIS Docker Benchmark §5)."""

    memory_bytes: int = Field(default=128 * 1024 * 1024, ge=8 * 1024 * 1024)
    nano_cpus: int = Field(default=500_000_000, ge=10_000_000)
    pids: int = Field(default=64, ge=8)
    log_max_size: str = "1m"
    log_max_file: int = Field(default=2, ge=1)
    cap_drop: tuple[str, ...] = ("NET_RAW", "MKNOD", "SYS_CHROOT", "SETFCAP", "AUDIT_WRITE")
    writable_bytes: int = Field(
        default=512 * MIB,
        ge=16 * MIB,
        description="What one container may write into its own filesystem (storage_opt size, "
        "on engines that enforce it; the image's own bytes come on top).",
    )
    tmpfs_bytes: int = Field(
        default=16 * MIB, ge=MIB, description="Size of a tmpfs mount asked for without one."
    )
    tmpfs_max_bytes: int = Field(
        default=64 * MIB, ge=MIB, description="The largest tmpfs a learner may ask for."
    )

    @model_validator(mode="after")
    def _tmpfs_within_cap(self) -> ContainerLimits:
        if self.tmpfs_bytes > self.tmpfs_max_bytes:
            raise ValueError("tmpfs_bytes must not be above tmpfs_max_bytes")
        return self


class BuildSettings(_Section):
    """Bounds of ``docker build`` (and ``compose build``): every step is a sandbox container."""

    step_seconds: float = Field(default=60.0, gt=0, description="wall clock of one RUN step")
    build_seconds: float = Field(default=300.0, gt=0, description="wall clock of one build")
    context_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    disk_bytes: int | None = Field(
        default=512 * 1024 * 1024,
        ge=1024 * 1024,
        description="what one RUN step may write (--storage-opt size: btrfs or xfs+pquota "
        "engines); None on engines without it",
    )
    steps: int = Field(default=100, ge=1, description="instructions in one Dockerfile")


class Quotas(_Section):
    containers: int = Field(default=6, ge=1)
    running_containers: int = Field(default=4, ge=1)
    volumes: int = Field(default=5, ge=0)
    networks: int = Field(default=3, ge=0)
    pulls_per_hour: int = Field(default=20, ge=1, description="Image pulls per user per hour.")
    images: int = Field(default=5, ge=0, description="the learner's own image references")
    image_bytes: int = Field(
        default=1024 * 1024 * 1024, ge=0, description="disk taken by the learner's own images"
    )
    compose_services: int = Field(default=4, ge=1, description="services in one compose project")


class DiskSettings(_Section):
    """Disk: each sandbox's budget, the watchdog that keeps it, and the workers' floor."""

    budget_bytes: int = Field(
        default=1024 * MIB,
        ge=32 * MIB,
        description="Per sandbox: every container's writable layer, the volumes, uploads.",
    )
    watchdog_interval_seconds: float = Field(
        default=15.0, gt=0, le=15.0, description="Every sandbox is measured at least this often."
    )
    no_quota_interval_seconds: float = Field(
        default=5.0,
        gt=0,
        le=15.0,
        description="The same on workers whose engine does not enforce container size limits.",
    )
    watch_min_seconds: float = Field(
        default=0.25, gt=0, description="Fastest re-measurement of a sandbox being written to."
    )
    write_rate_bytes: int = Field(
        default=256 * MIB,
        ge=MIB,
        description="The fastest a sandbox can write (bytes per second): a sandbox with a "
        "running container is measured again before it could pass its budget at that rate.",
    )
    file_metadata_bytes: int = Field(
        default=384,
        ge=0,
        description="What one file costs beyond its bytes (btrfs: ~370): counted for volumes "
        "and, on engines without size limits, for containers.",
    )
    free_floor_fraction: float = Field(
        default=0.10,
        ge=0,
        le=1,
        description="Below this free share of a worker's data root, new sandboxes, pulls and "
        "builds are refused there (existing sandboxes keep working).",
    )
    measure_timeout_seconds: float = Field(default=120.0, gt=0)


class SandboxSettings(_Section):
    instance: str | None = Field(
        default=None,
        pattern=r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$",
        description="Names this coach on shared engines: it sees only its own instance's "
        "objects, and only one running coach may hold an instance. None: the database's own "
        "instance (each database has one; databases from before instances use 'default').",
    )
    workers: tuple[WorkerSettings, ...] = (WorkerSettings(),)
    host_image: str = "docker-coach/host:latest"
    search_index: str = "docker.io"
    image_allowlist: tuple[str, ...] = ("busybox", "alpine", "nginx", "httpd", "redis")
    max_image_bytes: int = Field(default=300 * 1024 * 1024, ge=1)
    limits: ContainerLimits = ContainerLimits()
    quotas: Quotas = Quotas()
    disk: DiskSettings = DiskSettings()
    build: BuildSettings = BuildSettings()
    output_bytes: int = Field(default=1024 * 1024, ge=1024)  # a resource limit, not a display size
    exec_timeout_seconds: float = Field(default=15.0, gt=0)
    foreground_run_seconds: float = Field(default=10.0, gt=0)
    api_timeout_seconds: float = Field(default=30.0, gt=0)
    read_timeout_seconds: float = Field(
        default=8.0, gt=0, description="Lists and inspects, where a learner waits for the answer."
    )
    pull_timeout_seconds: float = Field(default=120.0, gt=0)
    thread_pool_size: int = Field(default=64, ge=1, le=64)
    calls_per_user: int = Field(
        default=4,
        ge=1,
        description="Threads one learner's Docker calls may hold at once while others wait.",
    )
    queue_timeout_seconds: float = Field(
        default=120.0, gt=0, description="How long a Docker call may wait for a thread."
    )
    creations_per_worker: int = Field(
        default=4,
        ge=1,
        description="Sandboxes being made at once on one worker; a class arriving together "
        "waits its turn for the rest (the thread pool stays free for everyone's commands).",
    )
    idle_stop_minutes: float = Field(default=30.0, gt=0)
    idle_destroy_minutes: float = Field(default=24 * 60.0, gt=0)
    reaper_interval_seconds: float = Field(default=60.0, gt=0)
    sweep_interval_seconds: float = Field(
        default=300.0,
        gt=0,
        description="How often every worker is reconciled with its labels: half-made and "
        "half-removed sandboxes are finished, sandboxes not in memory adopted.",
    )
    lease_heartbeat_seconds: float = Field(
        default=10.0, gt=0, description="How often this coach renews its hold on its instance."
    )
    lease_ttl_seconds: float = Field(
        default=45.0,
        gt=0,
        description="A hold not renewed for this long is a dead coach's: another may take it.",
    )
    upload_max_bytes: int = Field(default=8 * 1024 * 1024, ge=1)
    user_subnet_pool: str = Field(
        default="172.28.0.0/14",
        description="Where `network create --subnet` may take addresses (never the worker's).",
    )
    user_subnet_min_prefix: int = Field(default=24, ge=8, le=30)
    cooldown_seconds: float = Field(default=1.0, ge=0)


class RateSettings(_Section):
    """At most ``uses`` in any window of ``seconds`` (0 seconds: no limit)."""

    uses: int = Field(default=1, ge=1)
    seconds: float = Field(default=0.0, ge=0)


class CooldownSettings(_Section):
    """Per-user limits on Discord (the sandbox commands use ``sandbox.cooldown_seconds``)."""

    progress: RateSettings = RateSettings(uses=1, seconds=10.0)
    quiz: RateSettings = RateSettings(uses=3, seconds=30.0)
    press: RateSettings = RateSettings(uses=5, seconds=5.0)


class DiscordSettings(_Section):
    token: str | None = None
    api_base: str = Field(
        default="https://discord.com/api/v10",
        pattern=r"^https?://",
        description="Discord's REST API (a loopback stand-in in the stack tests).",
    )
    gateway_url: str = Field(
        default="wss://gateway.discord.gg/",
        pattern=r"^wss?://",
        description="Discord's gateway (a loopback stand-in in the stack tests).",
    )
    dev_guild_id: int | None = None
    health_file: Path | None = None
    attachment_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    cooldowns: CooldownSettings = CooldownSettings()
    live_edit_seconds: float = Field(
        default=1.0,
        ge=0,
        description="The least time between two messages the coach posts or edits on its own in "
        "one channel (Discord allows 5 per 5 s); faster changes are coalesced to the latest.",
    )


class HttpSettings(_Section):
    """The health and metrics endpoint of ``python -m bot run`` (/healthz, /metrics)."""

    enabled: bool = True
    host: str = Field(default="127.0.0.1", description="0.0.0.0 inside a container.")
    port: int = Field(default=9464, ge=0, le=65535)
    probe_timeout_seconds: float = Field(default=3.0, gt=0)


class BackupSettings(_Section):
    """Where automatic backups go: before pending migrations run (the newest 10 are kept)
    and of the database a ``db restore`` replaces."""

    dir: Path | None = Field(default=None, description="Default: backups/ beside the database.")


class QuizSettings(_Section):
    default_count: int = Field(default=5, ge=1, le=20)
    max_count: int = Field(default=20, ge=1, le=50)
    desired_retention: float = Field(default=0.9, gt=0.5, lt=1.0)
    fast_answer_seconds: float = Field(default=8.0, gt=0)
    slow_answer_seconds: float = Field(default=45.0, gt=0)


class StudySettings(_Section):
    """Study groups: channel rounds, the daily question, group practice."""

    tick_seconds: float = Field(
        default=1.0, ge=0, description="How often timers are checked; 0: only when asked."
    )
    default_count: int = Field(default=5, ge=1, le=20)
    max_count: int = Field(default=20, ge=1, le=50)
    default_seconds: int = Field(default=30, ge=5, le=600)
    min_seconds: int = Field(default=10, ge=1)
    max_seconds: int = Field(default=300, ge=10)
    daily_timezone: str = "Asia/Seoul"
    daily_grace_hours: float = Field(
        default=3.0,
        gt=0,
        description="A daily question later than this after a downtime is "
        "skipped for the day (never posted late, never several at once).",
    )
    summary_weekday: int = Field(default=0, ge=0, le=6, description="0 is Monday.")


FONT_PATHS: tuple[Path, ...] = (
    Path("/usr/share/fonts/truetype/nanum/NanumGothic.ttf"),  # Debian fonts-nanum
    Path("/usr/share/fonts/truetype/nanum/NanumBarunGothic.ttf"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
)
"""Where a font with Hangul is looked for when ``chart_font`` is not set (deploy/dev.sh and
the image install Debian's fonts-nanum)."""


class Settings(_Section):
    data_dir: Path = Field(default_factory=_default_data_dir)
    database: Path | None = None
    content_dir: Path = REPO_ROOT / "content"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    default_locale: Literal["en", "ko"] = "en"
    event_loop: Literal["asyncio", "uvloop"] = Field(
        default="asyncio",
        description="The event loop of `python -m bot run` (uvloop must be installed).",
    )
    event_loop_priority: Literal["normal", "realtime"] = Field(
        default="normal",
        description=(
            "The priority of the event loop's thread in `python -m bot run`: `realtime` lets it "
            "run as soon as it has work while the engine keeps the cores busy (needs "
            "CAP_SYS_NICE or an RLIMIT_RTPRIO of 1; in a container also a real-time CPU budget; "
            "docs/deploy.md, Sizing). Refused, the loop stays normal and the log says why."
        ),
    )
    sandbox: SandboxSettings = SandboxSettings()
    discord: DiscordSettings = DiscordSettings()
    quiz: QuizSettings = QuizSettings()
    study: StudySettings = StudySettings()
    chart_font: Path | None = Field(
        default=None, description="A TrueType font with Hangul for charts; default: FONT_PATHS."
    )
    http: HttpSettings = HttpSettings()
    backup: BackupSettings = BackupSettings()
    shutdown_grace_seconds: float = Field(
        default=10.0, ge=0, description="How long running commands may finish at shutdown."
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @property
    def database_path(self) -> Path:
        return self.database or self.data_dir / "coach.sqlite3"

    @property
    def backup_dir(self) -> Path:
        return self.backup.dir or self.database_path.parent / "backups"

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with top-level keys replaced (used by command-line flags). What the
        settings left at its default stays unset (the console tells a default warm pool from
        one the settings ask for, :func:`bot.cli._console_settings`)."""
        data = self.model_dump(exclude_unset=True)
        data.update({key: value for key, value in changes.items() if value is not None})
        try:
            return Settings.model_validate(data)
        except ValidationError as exc:
            raise ConfigError([_describe(err, "command line") for err in exc.errors()]) from exc


def _env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        keys = [part.lower() for part in name[len(ENV_PREFIX) :].split("__") if part]
        if not keys:
            continue
        node = tree
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = _parse_env_value(raw)
    token = environ.get("DISCORD_TOKEN")
    if token:
        tree.setdefault("discord", {}).setdefault("token", token)
    return tree


def _parse_env_value(raw: str) -> Any:
    stripped = raw.strip()
    if stripped[:1] in "[{":
        try:
            return json.loads(stripped)
        except json.JSONDecodeError:
            return raw
    return raw


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(dict(merged[key]), value)
        else:
            merged[key] = value
    return merged


def _describe(error: Mapping[str, Any], source: str) -> str:
    key = ".".join(str(part) for part in error["loc"]) or "(top level)"
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        message = "unknown setting"
    return f"{source}: {key}: {message}"


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read settings from ``path`` (optional) and the environment; raise :class:`ConfigError`."""
    environ = os.environ if environ is None else environ
    path = path or (Path(environ["COACH_SETTINGS"]) if environ.get("COACH_SETTINGS") else None)
    data: dict[str, Any] = {}
    source = "defaults"
    if path is not None:
        source = str(path)
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError([f"{path}: settings file not found"]) from exc
        except yaml.YAMLError as exc:
            raise ConfigError([f"{path}: invalid YAML: {exc}"]) from exc
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError([f"{path}: expected a mapping of settings at the top level"])
        data = loaded or {}
    overrides = _env_overrides(environ)
    if overrides:
        source += " + environment"
    try:
        return Settings.model_validate(_merge(data, overrides))
    except ValidationError as exc:
        raise ConfigError([_describe(err, source) for err in exc.errors()]) from exc
