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

pub use checkins::{
    CheckIn, CheckInChanges, CheckInDraft, MAX_BACKDATE_DAYS, Note, PartnerTrend, Score,
    TrendWeeks, WeekStats, check_in_day, local_day, trend_window, trends, week_start,
};
pub use feed::{Change, ChangeOp, EntityKind, perspective_feed_id};
pub use goals::{
    ActionChanges, ActionCounts, ActionOwner, Description, Goal, GoalAction, GoalChanges,
    GoalStatus, NewAction, NewGoal, Title, TransitionRefused,
};
pub use letters::{
    Letter, LetterChanges, LetterContent, LetterDraft, LetterView, MAX_SEAL_MONTHS, Month, Sealed,
    TimeLock, check_deliver_on,
};
pub use milestones::{
    MAX_UPCOMING, Milestone, MilestoneKind, Milestones, ROUND_DAYS, is_round_days, milestones,
};
pub use pairing::{
    Couple, CoupleId, DEFAULT_INVITE_TTL, Invite, InviteProblem, InviteTtl, JoinProblem,
    SHARED_CONTENT_RETENTION, Side, can_join,
};
pub use profile::{
    CoupleProfile, CoupleProfileChanges, HomeMessage, IntroText, Together, together, zone_of,
};
pub use qna::{
    Answer, AnswerDraft, AnswerStatus, AnswerText, NewQuestion, Question, QuestionChanges,
    QuestionText, Reveal, Theme, reveal,
};
