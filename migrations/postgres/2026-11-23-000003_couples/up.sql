-- Couples: pairing, invites, the per-couple change feed, and the couple's content: questions
-- and answers, goals and actions, daily check-ins, monthly letters.
CREATE TABLE couples (
    id           TEXT PRIMARY KEY,
    partner_a    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    partner_b    TEXT REFERENCES users (id) ON DELETE CASCADE,
    created_at   TIMESTAMP NOT NULL,
    paired_at    TIMESTAMP,
    dissolved_at TIMESTAMP,
    -- The profile: what the couple says about itself.
    start_date   DATE,
    home_message TEXT,
    intro_text   TEXT,
    time_zone    TEXT,
    updated_at   TIMESTAMP NOT NULL,
    -- The last number of this couple's change feed; advanced in the same transaction as each
    -- change, which also serializes the couple's writers so numbers become visible in order.
    change_seq   BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX couples_partner_a_idx ON couples (partner_a);
CREATE INDEX couples_partner_b_idx ON couples (partner_b);

CREATE TABLE couple_invites (
    id         TEXT PRIMARY KEY,
    couple_id  TEXT NOT NULL REFERENCES couples (id) ON DELETE CASCADE,
    code       TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at    TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE INDEX couple_invites_code_idx ON couple_invites (code, created_at);
CREATE INDEX couple_invites_couple_idx ON couple_invites (couple_id);

CREATE TABLE couple_changes (
    couple_id  TEXT NOT NULL REFERENCES couples (id) ON DELETE CASCADE,
    seq        BIGINT NOT NULL,
    kind       TEXT NOT NULL,
    entity_id  TEXT NOT NULL,
    op         TEXT NOT NULL CHECK (op IN ('upsert', 'delete')),
    at         TIMESTAMP NOT NULL,
    PRIMARY KEY (couple_id, seq)
);
CREATE INDEX couple_changes_at_idx ON couple_changes (couple_id, at);

CREATE TABLE qna_questions (
    id         TEXT PRIMARY KEY,
    couple_id  TEXT NOT NULL REFERENCES couples (id) ON DELETE CASCADE,
    author_id  TEXT NOT NULL,
    text       TEXT NOT NULL,
    theme      TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX qna_questions_couple_idx ON qna_questions (couple_id, id);

CREATE TABLE qna_answers (
    id          TEXT PRIMARY KEY,
    question_id TEXT NOT NULL REFERENCES qna_questions (id) ON DELETE CASCADE,
    couple_id   TEXT NOT NULL REFERENCES couples (id) ON DELETE CASCADE,
    author_id   TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('ANSWERED', 'NEEDS_TIME', 'CLARIFY')),
    text        TEXT,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    CONSTRAINT qna_answers_one_per_partner UNIQUE (question_id, author_id)
);

CREATE TABLE goals (
    id           TEXT PRIMARY KEY,
    couple_id    TEXT NOT NULL REFERENCES couples (id) ON DELETE CASCADE,
    author_id    TEXT NOT NULL,
    title        TEXT NOT NULL,
    description  TEXT,
    target_date  DATE,
    status       TEXT NOT NULL CHECK (status IN ('ACTIVE', 'DONE', 'PAUSED')),
    completed_at TIMESTAMP,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);
CREATE INDEX goals_couple_idx ON goals (couple_id, id);

CREATE TABLE goal_actions (
    id           TEXT PRIMARY KEY,
    goal_id      TEXT NOT NULL REFERENCES goals (id) ON DELETE CASCADE,
    couple_id    TEXT NOT NULL REFERENCES couples (id) ON DELETE CASCADE,
    title        TEXT NOT NULL,
    owner        TEXT NOT NULL CHECK (owner IN ('A', 'B', 'BOTH')),
    due_date     DATE,
    done         BOOLEAN NOT NULL DEFAULT FALSE,
    completed_at TIMESTAMP,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);
CREATE INDEX goal_actions_goal_idx ON goal_actions (goal_id);

-- One check-in per partner per local day (the partner's time zone decides the day).
CREATE TABLE checkins (
    id         TEXT PRIMARY KEY,
    couple_id  TEXT NOT NULL REFERENCES couples (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL,
    day        DATE NOT NULL,
    mood       INTEGER NOT NULL CHECK (mood BETWEEN 1 AND 10),
    stress     INTEGER NOT NULL CHECK (stress BETWEEN 1 AND 10),
    energy     INTEGER NOT NULL CHECK (energy BETWEEN 1 AND 10),
    note       TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CONSTRAINT checkins_one_per_day UNIQUE (couple_id, user_id, day)
);
CREATE INDEX checkins_couple_day_idx ON checkins (couple_id, day);

-- One letter per couple per month (YYYY-MM, which sorts as text).
CREATE TABLE letters (
    id             TEXT PRIMARY KEY,
    couple_id      TEXT NOT NULL REFERENCES couples (id) ON DELETE CASCADE,
    month          TEXT NOT NULL,
    content        TEXT NOT NULL,
    last_author_id TEXT NOT NULL,
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    CONSTRAINT letters_one_per_month UNIQUE (couple_id, month)
);
