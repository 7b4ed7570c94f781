-- Time as the learner lives it: activity days (streaks, "today", the activity chart,
-- leaderboards) are days in the learner's own time zone, no longer UTC days.
--
-- A learner's zone is the one they chose (/timezone), else their server's (/admin timezone),
-- else Asia/Seoul when they read Korean, else the coach's default (NULL here: UTC). The
-- local_day(stamp, zone) SQL function is the coach's (bot/store/db.py registers it on every
-- connection it opens). Days recorded before this migration stay UTC days.

ALTER TABLE users ADD COLUMN timezone TEXT;             -- IANA name; NULL: not chosen
ALTER TABLE memberships ADD COLUMN locale TEXT;         -- the language last seen there
ALTER TABLE guild_settings ADD COLUMN timezone TEXT;    -- the server's default zone

CREATE VIEW learner_zones AS
SELECT m.user_id,
       m.guild_id,
       coalesce(u.timezone, g.timezone,
                CASE WHEN coalesce(u.locale, m.locale) = 'ko' THEN 'Asia/Seoul' END) AS zone
FROM memberships m
JOIN users u ON u.user_id = m.user_id
LEFT JOIN guild_settings g ON g.guild_id = m.guild_id;

DROP TRIGGER answers_tally;
CREATE TRIGGER answers_tally AFTER INSERT ON answers
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

    -- The next question is shown now (its answer time starts); the last one ends the round.
    UPDATE round_questions SET shown_at = NEW.answered_at
    WHERE round_id = NEW.round_id AND position = NEW.position + 1 AND shown_at IS NULL;

    UPDATE rounds SET finished_at = NEW.answered_at
    WHERE round_id = NEW.round_id AND size = NEW.position + 1;
END;

DROP TRIGGER cards_next_due_insert;
CREATE TRIGGER cards_next_due_insert AFTER INSERT ON cards
BEGIN
    UPDATE activity
    SET next_due = (SELECT min(due) FROM cards
                    WHERE user_id = NEW.user_id AND guild_id = NEW.guild_id)
    WHERE user_id = NEW.user_id AND guild_id = NEW.guild_id
      AND day = local_day(NEW.last_review, (SELECT zone FROM learner_zones
                                            WHERE user_id = NEW.user_id
                                              AND guild_id = NEW.guild_id));
END;

DROP TRIGGER cards_next_due_update;
CREATE TRIGGER cards_next_due_update AFTER UPDATE OF due ON cards
BEGIN
    UPDATE activity
    SET next_due = (SELECT min(due) FROM cards
                    WHERE user_id = NEW.user_id AND guild_id = NEW.guild_id)
    WHERE user_id = NEW.user_id AND guild_id = NEW.guild_id
      AND day = local_day(NEW.last_review, (SELECT zone FROM learner_zones
                                            WHERE user_id = NEW.user_id
                                              AND guild_id = NEW.guild_id));
END;
