//! The couples ports' contracts, one file per repository.

pub mod checkins;
pub mod feed;
pub mod goals;
pub mod letters;
pub mod pairing;
pub mod qna;
