"""Docker Coach: teaches Docker to study groups on Discord and in a terminal."""

__version__ = "0.1.0"
