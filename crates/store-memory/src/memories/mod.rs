//! The memories repositories in memory, one file per aggregate as in the ports.

mod memory;
mod perspectives;
mod shares;
