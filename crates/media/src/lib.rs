//! Media adapters: photos kept as files on a local disk, and uploads checked, stripped of
//! their metadata and resized with the `image` crate.
//!
//! Both implement the media ports of `accueil-ports`; the server picks them at start-up.

pub mod fs;
pub mod images;
mod strip;
#[cfg(feature = "testing")]
pub mod testing;

pub use fs::LocalFileStore;
pub use images::{ImageCodec, ImageSettings};
