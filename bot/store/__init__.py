"""The store: everything Docker Coach remembers about people, in one SQLite file.

All SQL lives in this package. Front ends and capabilities call repositories that return
frozen dataclasses::

    store = await Store.open(path, clock)      # creates the folder, migrates, opens
    await store.quiz.record_answer(...)        # bot/store/quiz.py
    await store.progress.record_read(actor, "volume")
    await store.users.set_locale(actor, "ko")
    await store.close()

Rules every part of the store follows (and a new part must follow too):

* **Connections.** ``Database`` (db.py) has one writer connection and one read-only reader.
  Every write is a job ``async def job(conn) -> T`` passed to ``db.write(job)``; the writer
  runs waiting jobs together in one ``BEGIN IMMEDIATE`` transaction (group commit) and
  returns only after COMMIT (``synchronous=FULL``: on disk). A job may be re-run alone if a
  neighbour in its batch failed, so it must only touch the database. Reads use
  ``db.fetchall/fetchone/scalar`` (committed data only). Never ``commit()`` inside a job.
* **Migrations.** ``migrations/NNNN_name.sql``, numbered without gaps, each applied in its own
  transaction with ``PRAGMA user_version = NNNN`` (migrate.py). Adding a migration is adding
  the next file; never edit one that has shipped. Tests migrate from empty and from every
  earlier version, whatever files exist.
* **Forgetting.** Every table holding anything about a person has a ``user_id`` column that
  ``REFERENCES users (user_id) ON DELETE CASCADE`` (directly, or through a parent row that
  does). ``store.forget_user(user_id)`` only deletes the ``users`` row; the cascade does the
  rest, so a new table that follows this rule is forgotten too (foreign keys are ON).
* **Servers.** Learning data is per ``(user_id, guild_id)``; only ``users`` (with the chosen
  language) is global. Write rows for a person with
  ``users.write_for_member(db, who, stamp(now), *statements)``, or call
  ``users.ensure_member(conn, who, stamp(now))`` first inside your own job (creates ``users``
  and ``memberships`` rows), so that the foreign keys hold. Per-server settings chosen by a
  server's managers live in ``guild_settings`` (``store.guilds``, cached in memory).
* **Time.** Moments are written with ``timefmt.stamp`` (fixed-width UTC text that sorts);
  days are the UTC day ``YYYY-MM-DD``. Always use the injected clock, never ``datetime.now``.

* **Own types.** The store sits below every capability and imports none: it reads and writes
  its own record types (``SessionRecord``, ``Round``, ``DayActivity`` …); a capability turns
  them into its working objects. Repositories do not import each other either: what two of
  them share lives in a module of its own (``activity.py``).

Practice: ``migrations/0003_practice.sql`` and ``bot/store/practice.py`` (``PracticeRepo``,
attached as ``store.practice``); ``/progress`` shows its ``summary(...)``: steps passed and
skipped, scenarios completed. A finished step counts for streaks, the activity chart and
leaderboards through ``activity.activity_bump(who, when, practice=1)`` in the same write
(``store.progress.record_practice_step(actor)`` does it alone).
"""

from bot.store.db import Database, StoreClosed, WriterFailed
from bot.store.store import Store

__all__ = ["Database", "Store", "StoreClosed", "WriterFailed"]
