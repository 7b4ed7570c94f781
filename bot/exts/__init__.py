"""One discord.py extension per feature (python-discord style).

Each package's ``setup(bot)`` adds a cog that names the core commands it serves and how
Discord treats them (defer at once, cooldown, practice channel, default visibility); the
slash commands themselves are built from the core's command table, so names and options
always match the console.
"""
