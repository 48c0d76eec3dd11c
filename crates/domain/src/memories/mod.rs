//! The couple memories site: memories with photos, each partner's perspective, and share links
//! that make a chosen part of a couple's site public.

mod memory;
mod perspectives;
mod photo;
mod shares;

pub use memory::*;
pub use perspectives::*;
pub use photo::*;
pub use shares::*;
