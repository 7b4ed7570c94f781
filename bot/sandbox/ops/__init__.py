"""One small function per docker subcommand, looked up by the parser's canonical path."""

from __future__ import annotations

from functools import partial

from bot.sandbox.ops import containers, files, images, storage
from bot.sandbox.ops.base import Ctx, Op, Output

OPERATIONS: dict[tuple[str, ...], Op] = {
    ("search",): images.search,
    ("pull",): images.pull,
    ("images",): images.images,
    ("image", "ls"): images.images,
    ("run",): containers.run,
    ("create",): partial(containers.run, create_only=True),
    ("start",): containers.start,
    ("stop",): containers.stop,
    ("restart",): containers.restart,
    ("pause",): containers.pause,
    ("unpause",): containers.unpause,
    ("kill",): containers.kill,
    ("rm",): containers.rm,
    ("ps",): containers.ps,
    ("logs",): containers.logs,
    ("exec",): containers.exec_,
    ("cp",): files.cp,
    ("inspect",): containers.inspect,
    ("rename",): containers.rename,
    ("top",): containers.top,
    ("port",): containers.port,
    ("stats",): containers.stats,
    ("container", "prune"): containers.prune,
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

__all__ = ["OPERATIONS", "Ctx", "Op", "Output"]
