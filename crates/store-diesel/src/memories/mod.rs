//! The memories repositories in SQL, one file per aggregate as in the ports.

mod memory;
mod perspectives;
mod shares;
