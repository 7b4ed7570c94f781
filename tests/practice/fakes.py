"""An in-memory stand-in for the sandbox service's read-only views (unit tests only).

Integration tests (``test_scenarios_engine.py``) use the real sandbox on a real engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from bot.core.context import Actor
from bot.dockercli.views import ContainerView, MountView, SandboxState


@dataclass
class FakeSandbox:
    states: dict[str, SandboxState] = field(default_factory=dict)
    files: dict[tuple[str, str | None, str], bytes] = field(default_factory=dict)
    pages: dict[tuple[str, str], str] = field(default_factory=dict)
    reads: int = 0

    async def state(self, actor: Actor) -> SandboxState:
        self.reads += 1
        return self.states.get(actor.user_id, SandboxState())

    async def read_file(self, actor: Actor, container: str | None, path: str) -> bytes | None:
        return self.files.get((actor.user_id, container, path))

    async def http_get(self, actor: Actor, url: str) -> str | None:
        return self.pages.get((actor.user_id, url))

    # helpers for tests ------------------------------------------------------------------
    def put(self, user: str, *containers: ContainerView, **other: tuple[str, ...]) -> None:
        current = self.states.get(user, SandboxState(exists=True))
        kept = tuple(c for c in current.containers if c.name not in {n.name for n in containers})
        self.states[user] = replace(current, exists=True, containers=kept + containers, **other)

    def remove(self, user: str, name: str) -> None:
        current = self.states[user]
        containers = tuple(c for c in current.containers if c.name != name)
        self.states[user] = replace(current, containers=containers)


def container(
    name: str,
    status: str = "running",
    image: str = "busybox:latest",
    cid: str | None = None,
    mounts: tuple[MountView, ...] = (),
    networks: tuple[str, ...] = ("bridge",),
    **extra: object,
) -> ContainerView:
    return ContainerView(
        name=name,
        id=cid or (name * 64)[:64],
        image=image,
        status=status,
        mounts=mounts,
        networks=networks,
        **extra,  # type: ignore[arg-type]
    )
