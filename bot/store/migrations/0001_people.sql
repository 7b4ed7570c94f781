-- People: who learns, in which servers, in which language, and what they did each day.
-- Every table that holds something about a person references users(user_id) with
-- ON DELETE CASCADE, so that deleting the users row forgets everything (/forget-me).

CREATE TABLE users (
    user_id      TEXT PRIMARY KEY,
    display_name TEXT NOT NULL DEFAULT '',
    locale       TEXT CHECK (locale IN ('en', 'ko')),  -- NULL: follow the front end's locale
    created_at   TEXT NOT NULL
) WITHOUT ROWID;

-- A person in one server ("guild"; the console is the guild 'console').
CREATE TABLE memberships (
    guild_id     TEXT NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    display_name TEXT NOT NULL DEFAULT '',
    first_seen   TEXT NOT NULL,
    last_seen    TEXT NOT NULL,
    PRIMARY KEY (guild_id, user_id)
) WITHOUT ROWID;

CREATE INDEX memberships_by_user ON memberships (user_id);

-- What a person did on one UTC day in one server: the source of streaks, the activity
-- chart and leaderboards. next_due is the earliest review due after that day's activity
-- (NULL: no review cards), which decides whether the following missed days break a streak.
CREATE TABLE activity (
    user_id  TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    guild_id TEXT NOT NULL,
    day      TEXT NOT NULL,  -- YYYY-MM-DD, UTC
    answers  INTEGER NOT NULL DEFAULT 0,
    correct  INTEGER NOT NULL DEFAULT 0,
    reads    INTEGER NOT NULL DEFAULT 0,
    practice INTEGER NOT NULL DEFAULT 0,
    next_due TEXT,
    PRIMARY KEY (user_id, guild_id, day)
) WITHOUT ROWID;

CREATE INDEX activity_by_guild_day ON activity (guild_id, day);
