//! The couples repositories in memory, one file per aggregate as in the ports.

mod checkins;
mod feed;
mod goals;
mod letters;
mod pairing;
mod qna;
