//! Memories ports, one repository per aggregate: memories (with their photos and the
//! timeline), the partners' perspectives, and share links. Every method that reads or changes a
//! couple's object takes the couple it must belong to, so another couple's object is simply
//! not found.

mod memory;
mod perspectives;
mod shares;

pub use memory::*;
pub use perspectives::*;
pub use shares::*;
