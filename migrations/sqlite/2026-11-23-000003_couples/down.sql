DROP TABLE qna_answers;
DROP TABLE qna_questions;
DROP TABLE couple_changes;
DROP TABLE couple_invites;
DROP TABLE couples;
