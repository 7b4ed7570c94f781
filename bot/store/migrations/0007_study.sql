-- Study groups: a server's study settings, channel quiz rounds (and the daily question, a
-- round of one), group practice sessions. Everything a timer needs is here, so that a
-- restarted coach resumes where it was: deadlines are stored, never kept in memory.
-- Rows about a person reference users(user_id) ON DELETE CASCADE (/forget-me); a round or a
-- session its host forgot keeps going without a host (ON DELETE SET NULL).

CREATE TABLE study_settings (
    guild_id          TEXT PRIMARY KEY,
    locale            TEXT CHECK (locale IN ('en', 'ko')),  -- chosen; NULL: server_locale
    server_locale     TEXT,   -- the server's preferred locale, as its front end last said
    daily_channel_id  TEXT,                                 -- NULL: no daily question
    daily_time        TEXT,                                 -- HH:MM, local time
    daily_timezone    TEXT,                                 -- IANA name
    daily_last_day    TEXT,   -- the local day whose daily question was posted (or passed)
    summary_last_week TEXT,   -- the ISO week (2026-W05) whose weekly summary was posted
    plan              TEXT NOT NULL DEFAULT '[]',           -- JSON list of concept ids
    roles_refused_at  TEXT,   -- when the bot was last refused a reward role (said once)
    plan_set_at       TEXT,
    updated_at        TEXT NOT NULL
) WITHOUT ROWID;

-- A channel quiz round ('quiz') or a daily question ('daily', one question). position is the
-- question on show; deadline when it closes (the round's timer, on the coach's clock).
CREATE TABLE study_rounds (
    round_id   INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id   TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('quiz', 'daily')),
    host_id    TEXT REFERENCES users (user_id) ON DELETE SET NULL,
    locale     TEXT NOT NULL,
    topic      TEXT,
    seconds    INTEGER NOT NULL CHECK (seconds > 0),
    size       INTEGER NOT NULL CHECK (size > 0),
    position   INTEGER NOT NULL DEFAULT 0 CHECK (position >= 0),
    deadline   TEXT NOT NULL,
    started_at TEXT NOT NULL,
    ended_at   TEXT,
    end_reason TEXT
);

-- One live quiz round per channel.
CREATE UNIQUE INDEX study_rounds_live ON study_rounds (guild_id, channel_id)
    WHERE ended_at IS NULL AND kind = 'quiz';
CREATE INDEX study_rounds_open ON study_rounds (ended_at, deadline);

CREATE TABLE study_round_questions (
    round_id     INTEGER NOT NULL REFERENCES study_rounds (round_id) ON DELETE CASCADE,
    position     INTEGER NOT NULL CHECK (position >= 0),
    question_id  TEXT NOT NULL,
    option_order TEXT NOT NULL DEFAULT '',
    shown_at     TEXT,
    PRIMARY KEY (round_id, position)
) WITHOUT ROWID;

-- Who plays a round: joined with /study join, or by answering. since: the first question
-- the round waits for their answer on (the one on show when they joined; the next one when
-- they joined by answering).
CREATE TABLE study_players (
    round_id     INTEGER NOT NULL REFERENCES study_rounds (round_id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    display_name TEXT NOT NULL DEFAULT '',
    joined_at    TEXT NOT NULL,
    since        INTEGER NOT NULL DEFAULT 0 CHECK (since >= 0),
    PRIMARY KEY (round_id, user_id)
) WITHOUT ROWID;

-- One answer per member per question (the primary key: a second press records nothing).
CREATE TABLE study_answers (
    round_id    INTEGER NOT NULL,
    position    INTEGER NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    guild_id    TEXT NOT NULL,
    question_id TEXT NOT NULL,
    given       TEXT NOT NULL,
    correct     INTEGER NOT NULL CHECK (correct IN (0, 1)),
    seconds     REAL NOT NULL CHECK (seconds >= 0),
    rating      INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 4),
    points      INTEGER NOT NULL CHECK (points >= 0),
    answered_at TEXT NOT NULL,
    PRIMARY KEY (round_id, position, user_id),
    FOREIGN KEY (round_id, position)
        REFERENCES study_round_questions (round_id, position) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE INDEX study_answers_by_guild ON study_answers (guild_id, question_id);

-- A group answer counts like any other: the day's activity (streaks, leaderboards) and the
-- question's tally, as answers_tally does for a personal round (the FSRS card is updated by
-- the same write).
CREATE TRIGGER study_answers_tally AFTER INSERT ON study_answers
BEGIN
    INSERT INTO activity (user_id, guild_id, day, answers, correct)
    VALUES (NEW.user_id, NEW.guild_id,
            local_day(NEW.answered_at, (SELECT zone FROM learner_zones
                                        WHERE user_id = NEW.user_id
                                          AND guild_id = NEW.guild_id)),
            1, NEW.correct)
    ON CONFLICT (user_id, guild_id, day)
    DO UPDATE SET answers = answers + 1, correct = correct + excluded.correct;

    INSERT INTO question_stats
        (user_id, guild_id, question_id, attempts, correct, last_correct, last_answered)
    VALUES (NEW.user_id, NEW.guild_id, NEW.question_id, 1, NEW.correct, NEW.correct,
            NEW.answered_at)
    ON CONFLICT (user_id, guild_id, question_id)
    DO UPDATE SET attempts = attempts + 1,
                  correct = correct + excluded.correct,
                  last_correct = excluded.last_correct,
                  last_answered = excluded.last_answered;
END;

-- Group practice: a scenario a channel works through together, each member in their own
-- sandbox. steps_done and finished_at are what the board shows; hints how many they needed.
CREATE TABLE study_practices (
    practice_id INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id    TEXT NOT NULL,
    channel_id  TEXT NOT NULL,
    scenario_id TEXT NOT NULL,
    host_id     TEXT REFERENCES users (user_id) ON DELETE SET NULL,
    locale      TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    ended_at    TEXT
);

CREATE UNIQUE INDEX study_practices_live ON study_practices (guild_id, channel_id)
    WHERE ended_at IS NULL;

CREATE TABLE study_practice_members (
    practice_id  INTEGER NOT NULL REFERENCES study_practices (practice_id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    display_name TEXT NOT NULL DEFAULT '',
    joined_at    TEXT NOT NULL,
    steps_done   INTEGER NOT NULL DEFAULT 0 CHECK (steps_done >= 0),
    hints        INTEGER NOT NULL DEFAULT 0 CHECK (hints >= 0),
    finished_at  TEXT,
    PRIMARY KEY (practice_id, user_id)
) WITHOUT ROWID;

CREATE INDEX study_practice_members_by_user ON study_practice_members (user_id);

-- Role rewards for milestones ("completed all scenarios"), and who got which (given once).
CREATE TABLE study_rewards (
    guild_id  TEXT NOT NULL,
    milestone TEXT NOT NULL,
    role_id   TEXT NOT NULL,
    PRIMARY KEY (guild_id, milestone)
) WITHOUT ROWID;

CREATE TABLE study_rewarded (
    guild_id   TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    milestone  TEXT NOT NULL,
    granted_at TEXT NOT NULL,
    PRIMARY KEY (guild_id, user_id, milestone)
) WITHOUT ROWID;
