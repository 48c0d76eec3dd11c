//! Couples: pairing by invite code, and the couple-scoped content (Q&A for now), with a change
//! feed that clients poll.

mod changes;
mod couple;
mod qna;

pub use changes::{Change, ChangeOp, EntityKind};
pub use couple::{
    Couple, CoupleId, DEFAULT_INVITE_TTL, Invite, InviteProblem, InviteTtl, JoinProblem,
    SHARED_CONTENT_RETENTION, Side, can_join,
};
pub use qna::{Answer, AnswerStatus, AnswerText, Question, QuestionText, Reveal, Theme, reveal};
