//! Couples: pairing by invite code, and the couple-scoped content (Q&A for now), with a change
//! feed that clients poll.

mod changes;
mod checkins;
mod couple;
mod goals;
mod letters;
mod profile;
mod qna;

pub use changes::{Change, ChangeOp, EntityKind};
pub use checkins::{CheckIn, Note, Score, local_day};
pub use couple::{
    Couple, CoupleId, DEFAULT_INVITE_TTL, Invite, InviteProblem, InviteTtl, JoinProblem,
    SHARED_CONTENT_RETENTION, Side, can_join,
};
pub use goals::{ActionOwner, Description, Goal, GoalAction, GoalStatus, Title, TransitionRefused};
pub use letters::{Letter, LetterContent, Month};
pub use profile::{CoupleProfile, HomeMessage, IntroText, Together, together};
pub use qna::{Answer, AnswerStatus, AnswerText, Question, QuestionText, Reveal, Theme, reveal};
