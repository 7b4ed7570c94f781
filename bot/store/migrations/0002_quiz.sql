-- Quizzes: concepts read, quiz/review rounds, answers, per-question tallies, FSRS cards.
-- All of it is per (user, server): progress in one server never shows in another.

CREATE TABLE concept_reads (
    user_id    TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    guild_id   TEXT NOT NULL,
    concept_id TEXT NOT NULL,
    first_read TEXT NOT NULL,
    last_read  TEXT NOT NULL,
    times      INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (user_id, guild_id, concept_id)
) WITHOUT ROWID;

-- A /quiz or /review round; its buttons name round_id, so they work after a restart.
CREATE TABLE rounds (
    round_id    INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    guild_id    TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('quiz', 'review')),
    topic       TEXT,
    size        INTEGER NOT NULL CHECK (size > 0),
    created_at  TEXT NOT NULL,
    finished_at TEXT
);

CREATE INDEX rounds_by_user ON rounds (user_id);

-- option_order: how a choice question's options were shuffled ("2,0,1": the first button
-- is option 2 of the content file). shown_at: when the question was put in front of the
-- user, the start of its answer time (NULL: not shown yet).
CREATE TABLE round_questions (
    round_id     INTEGER NOT NULL REFERENCES rounds (round_id) ON DELETE CASCADE,
    position     INTEGER NOT NULL CHECK (position >= 0),
    question_id  TEXT NOT NULL,
    option_order TEXT NOT NULL DEFAULT '',
    shown_at     TEXT,
    PRIMARY KEY (round_id, position)
) WITHOUT ROWID;

-- One answer per question of a round, enforced by the UNIQUE constraint: a second press
-- of a button records nothing.
CREATE TABLE answers (
    answer_id   INTEGER PRIMARY KEY,
    round_id    INTEGER NOT NULL,
    position    INTEGER NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    guild_id    TEXT NOT NULL,
    question_id TEXT NOT NULL,
    given       TEXT NOT NULL,
    correct     INTEGER NOT NULL CHECK (correct IN (0, 1)),
    seconds     REAL NOT NULL CHECK (seconds >= 0),
    rating      INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 4),
    answered_at TEXT NOT NULL,
    UNIQUE (round_id, position),
    FOREIGN KEY (round_id, position)
        REFERENCES round_questions (round_id, position) ON DELETE CASCADE
);

CREATE INDEX answers_by_user ON answers (user_id, guild_id, answered_at);

-- Running tallies per question, kept by the answers_tally trigger so /progress never scans
-- answers.
CREATE TABLE question_stats (
    user_id       TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    guild_id      TEXT NOT NULL,
    question_id   TEXT NOT NULL,
    attempts      INTEGER NOT NULL,
    correct       INTEGER NOT NULL,
    last_correct  INTEGER NOT NULL,
    last_answered TEXT NOT NULL,
    PRIMARY KEY (user_id, guild_id, question_id)
) WITHOUT ROWID;

-- The FSRS memory state of one question for one person (fsrs.Card.to_json()).
CREATE TABLE cards (
    user_id     TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    guild_id    TEXT NOT NULL,
    question_id TEXT NOT NULL,
    card        TEXT NOT NULL,
    due         TEXT NOT NULL,
    last_review TEXT NOT NULL,
    reviews     INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (user_id, guild_id, question_id)
) WITHOUT ROWID;

CREATE INDEX cards_by_due ON cards (user_id, guild_id, due);

CREATE TRIGGER answers_tally AFTER INSERT ON answers
BEGIN
    INSERT INTO activity (user_id, guild_id, day, answers, correct)
    VALUES (NEW.user_id, NEW.guild_id, substr(NEW.answered_at, 1, 10), 1, NEW.correct)
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

    -- The next question is shown now (its answer time starts); the last one ends the round.
    UPDATE round_questions SET shown_at = NEW.answered_at
    WHERE round_id = NEW.round_id AND position = NEW.position + 1 AND shown_at IS NULL;

    UPDATE rounds SET finished_at = NEW.answered_at
    WHERE round_id = NEW.round_id AND size = NEW.position + 1;
END;

-- After a review the day's activity remembers the earliest review now due (streak rule).
CREATE TRIGGER cards_next_due_insert AFTER INSERT ON cards
BEGIN
    UPDATE activity
    SET next_due = (SELECT min(due) FROM cards
                    WHERE user_id = NEW.user_id AND guild_id = NEW.guild_id)
    WHERE user_id = NEW.user_id AND guild_id = NEW.guild_id
      AND day = substr(NEW.last_review, 1, 10);
END;

CREATE TRIGGER cards_next_due_update AFTER UPDATE OF due ON cards
BEGIN
    UPDATE activity
    SET next_due = (SELECT min(due) FROM cards
                    WHERE user_id = NEW.user_id AND guild_id = NEW.guild_id)
    WHERE user_id = NEW.user_id AND guild_id = NEW.guild_id
      AND day = substr(NEW.last_review, 1, 10);
END;
