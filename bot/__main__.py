"""``python -m bot``.

SIGTERM ends the process from its first moment: as a container's PID 1 it would otherwise be
ignored until the coach installs its graceful handlers (``bot.ops.shutdown``), and
``docker stop`` would wait out its grace period while the coach is still starting. Exiting
with ``SystemExit`` (128 + the signal, as a shell reports it) runs the clean-ups on the way:
a ``db backup`` cut short leaves no partial file.
"""

import signal
import sys
from types import FrameType


def _terminated(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


signal.signal(signal.SIGTERM, _terminated)

from bot.cli import main  # noqa: E402  # after the handler: importing takes a moment

sys.exit(main())
