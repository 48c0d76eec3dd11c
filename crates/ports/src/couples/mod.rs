//! Couples ports, one repository per aggregate: pairing (couples, their profile and invites),
//! the change feed, Q&A, goals and actions, check-ins, letters.
//!
//! Every query that reads couple content takes the couple's id: an object of another couple is
//! simply not found.

mod checkins;
mod feed;
mod goals;
mod letters;
mod pairing;
mod qna;

pub use checkins::*;
pub use feed::*;
pub use goals::*;
pub use letters::*;
pub use pairing::*;
pub use qna::*;
