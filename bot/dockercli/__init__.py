"""The docker command-line grammar: what the docker CLI accepts and how it answers.

Pure and shared: no Docker SDK, no I/O; it depends only on :mod:`bot.core` and the standard
library. The sandbox parses and runs learners' commands with it, the quiz grades typed
commands with it, practice recognises which subcommand a learner used, and the content checks
parse every example command with it.

- :mod:`~bot.dockercli.model`: flags, subcommands, one parsed :class:`DockerCommand`;
- :mod:`~bot.dockercli.table`: every subcommand as data, routes, commands not in the sandbox;
- :mod:`~bot.dockercli.values`: sizes, CPUs, durations, ports, volumes, mounts, images, cp;
- :mod:`~bot.dockercli.parser`: a line → a :class:`DockerCommand` (or a :class:`CliError`);
- :mod:`~bot.dockercli.compare`: equivalence and differences, for grading;
- :mod:`~bot.dockercli.templates`, :mod:`~bot.dockercli.layout`,
  :mod:`~bot.dockercli.output`, :mod:`~bot.dockercli.views`: output like the CLI's.
"""

from bot.dockercli.compare import Difference, differences, equivalent, normalize
from bot.dockercli.errors import CliError
from bot.dockercli.model import DockerCommand, Flag, FlagValue, Path, SubcommandSpec
from bot.dockercli.parser import flag_label, parse_docker, parse_filters, split_words
from bot.dockercli.table import COMMANDS, NOT_IN_SANDBOX, ROUTES

__all__ = [
    "COMMANDS",
    "NOT_IN_SANDBOX",
    "ROUTES",
    "CliError",
    "Difference",
    "DockerCommand",
    "Flag",
    "FlagValue",
    "Path",
    "SubcommandSpec",
    "differences",
    "equivalent",
    "flag_label",
    "normalize",
    "parse_docker",
    "parse_filters",
    "split_words",
]
