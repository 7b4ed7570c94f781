"""Running the coach as a service: graceful shutdown, the health and metrics endpoint, and
database maintenance (``python -m bot db …``, ``python -m bot health``).

It sits beside the front ends (it starts and stops a coach, like they do) and below nothing:
no capability imports it. The metrics themselves live in :mod:`bot.core.metrics`.
"""
