//! Couples: pairing by invite code, and the couple-scoped content (Q&A for now), with a change
//! feed that clients poll.

mod checkins;
mod feed;
mod goals;
mod letters;
mod milestones;
mod pairing;
mod profile;
mod qna;

pub use checkins::{CheckIn, CheckInDraft, Note, Score, local_day};
pub use feed::{Change, ChangeOp, EntityKind, perspective_feed_id};
pub use goals::{
    ActionChanges, ActionCounts, ActionOwner, Description, Goal, GoalAction, GoalChanges,
    GoalStatus, NewAction, NewGoal, Title, TransitionRefused,
};
pub use letters::{Letter, LetterContent, LetterDraft, Month};
pub use milestones::{
    MAX_UPCOMING, Milestone, MilestoneKind, Milestones, ROUND_DAYS, is_round_days, milestones,
};
pub use pairing::{
    Couple, CoupleId, DEFAULT_INVITE_TTL, Invite, InviteProblem, InviteTtl, JoinProblem,
    SHARED_CONTENT_RETENTION, Side, can_join,
};
pub use profile::{
    CoupleProfile, CoupleProfileChanges, HomeMessage, IntroText, Together, together,
};
pub use qna::{
    Answer, AnswerDraft, AnswerStatus, AnswerText, NewQuestion, Question, QuestionChanges,
    QuestionText, Reveal, Theme, reveal,
};
