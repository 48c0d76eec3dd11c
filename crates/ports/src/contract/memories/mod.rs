//! The memories ports' contracts, one file per repository.

pub mod memory;
pub mod perspectives;
pub mod shares;
