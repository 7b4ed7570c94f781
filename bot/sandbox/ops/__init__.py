"""One small function per docker subcommand, looked up by the grammar's canonical path.

:data:`OPERATIONS` has exactly the paths of :data:`bot.dockercli.table.COMMANDS` (a test
checks it, and that the policy decided about each of them).
"""

from __future__ import annotations

from bot.dockercli.model import Path
from bot.sandbox.ops import (
    build,
    compose,
    execs,
    files,
    images,
    lifecycle,
    own_images,
    reading,
    run,
    storage,
    system,
)
from bot.sandbox.ops.base import Ctx, Note, Op, Output

OPERATIONS: dict[Path, Op] = {
    ("run",): run.run,
    ("create",): run.create,
    ("start",): lifecycle.start,
    ("stop",): lifecycle.stop,
    ("restart",): lifecycle.restart,
    ("pause",): lifecycle.pause,
    ("unpause",): lifecycle.unpause,
    ("kill",): lifecycle.kill,
    ("rm",): lifecycle.rm,
    ("rename",): lifecycle.rename,
    ("container", "prune"): lifecycle.prune,
    ("ps",): reading.ps,
    ("logs",): reading.logs,
    ("inspect",): reading.inspect,
    ("top",): reading.top,
    ("port",): reading.port,
    ("stats",): reading.stats,
    ("wait",): reading.wait,
    ("diff",): reading.diff,
    ("exec",): execs.exec_,
    ("cp",): files.cp,
    ("images",): images.images,
    ("pull",): images.pull,
    ("search",): images.search,
    ("image", "inspect"): images.image_inspect,
    ("commit",): own_images.commit,
    ("tag",): own_images.tag,
    ("rmi",): own_images.rmi,
    ("history",): own_images.history,
    ("image", "prune"): own_images.image_prune,
    ("build",): build.build,
    ("compose", "up"): compose.up,
    ("compose", "down"): compose.down,
    ("compose", "ps"): compose.ps,
    ("compose", "logs"): compose.logs,
    ("compose", "exec"): compose.exec_,
    ("compose", "stop"): compose.stop,
    ("compose", "start"): compose.start,
    ("compose", "restart"): compose.restart,
    ("compose", "config"): compose.config,
    ("compose", "build"): compose.build,
    ("system", "df"): system.system_df,
    ("system", "prune"): system.system_prune,
    ("version",): system.version,
    ("info",): system.info,
    ("volume", "create"): storage.volume_create,
    ("volume", "ls"): storage.volume_ls,
    ("volume", "inspect"): storage.volume_inspect,
    ("volume", "rm"): storage.volume_rm,
    ("volume", "prune"): storage.volume_prune,
    ("network", "create"): storage.network_create,
    ("network", "ls"): storage.network_ls,
    ("network", "inspect"): storage.network_inspect,
    ("network", "rm"): storage.network_rm,
    ("network", "connect"): storage.network_connect,
    ("network", "disconnect"): storage.network_disconnect,
    ("network", "prune"): storage.network_prune,
}

__all__ = ["OPERATIONS", "Ctx", "Note", "Op", "Output"]
