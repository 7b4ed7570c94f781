-- Guided practice: the scenario a person is in, the steps they finished, the scenarios they
-- completed. Every row references users(user_id) ON DELETE CASCADE (/forget-me).

-- At most one active scenario per person (their sandbox is one, whichever server they use).
-- used: JSON list of [step index, "run" | "volume create" | "sh:wget"] (what checks may ask);
-- remembered: JSON object of container name -> id captured by earlier steps;
-- last_fail: the fail check whose hint was shown last (not repeated after every command).
CREATE TABLE practice_sessions (
    user_id         TEXT PRIMARY KEY REFERENCES users (user_id) ON DELETE CASCADE,
    guild_id        TEXT NOT NULL,
    scenario_id     TEXT NOT NULL,
    step_index      INTEGER NOT NULL DEFAULT 0 CHECK (step_index >= 0),
    hints_shown     INTEGER NOT NULL DEFAULT 0 CHECK (hints_shown >= 0),
    skipped         INTEGER NOT NULL DEFAULT 0 CHECK (skipped >= 0),
    used            TEXT NOT NULL DEFAULT '[]',
    remembered      TEXT NOT NULL DEFAULT '{}',
    last_fail       TEXT,
    started_at      TEXT NOT NULL,
    step_started_at TEXT NOT NULL,
    updated_at      TEXT NOT NULL
) WITHOUT ROWID;

-- Each step a person got through in a server; skipped = 1 when they skipped it (and never
-- passed it later).
CREATE TABLE practice_steps (
    user_id     TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    guild_id    TEXT NOT NULL,
    scenario_id TEXT NOT NULL,
    step_id     TEXT NOT NULL,
    skipped     INTEGER NOT NULL CHECK (skipped IN (0, 1)),
    first_done  TEXT NOT NULL,
    last_done   TEXT NOT NULL,
    PRIMARY KEY (user_id, guild_id, scenario_id, step_id)
) WITHOUT ROWID;

CREATE TABLE practice_completions (
    user_id         TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    guild_id        TEXT NOT NULL,
    scenario_id     TEXT NOT NULL,
    times           INTEGER NOT NULL DEFAULT 1 CHECK (times > 0),
    skipped         INTEGER NOT NULL DEFAULT 0 CHECK (skipped >= 0),  -- in the latest run
    first_completed TEXT NOT NULL,
    last_completed  TEXT NOT NULL,
    PRIMARY KEY (user_id, guild_id, scenario_id)
) WITHOUT ROWID;
