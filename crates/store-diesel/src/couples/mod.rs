//! The couples repositories in SQL, one file per aggregate as in the ports.

mod checkins;
mod feed;
mod goals;
mod letters;
mod pairing;
mod qna;
