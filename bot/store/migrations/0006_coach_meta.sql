-- Facts about this database itself, not about any person (so nothing here for /forget-me):
--   database_id       a random id made once, kept by backups and restores; a coach's hold on
--                     its sandbox instance on a worker names it (docs/sandbox.md "Instances")
--   sandbox_instance  the instance this database's sandboxes carry when the settings name
--                     none. A database from before this migration that already knows people
--                     keeps 'default' (the instance its sandboxes were made with); a new one
--                     gets an instance of its own from its id (bot/store/meta.py).

CREATE TABLE coach_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

INSERT INTO coach_meta (key, value) VALUES ('database_id', lower(hex(randomblob(8))));

INSERT INTO coach_meta (key, value)
SELECT 'sandbox_instance', 'default' WHERE EXISTS (SELECT 1 FROM users);
