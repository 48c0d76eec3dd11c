//! Mail adapter: renders the outbox's mails with minijinja (HTML and plain text, French and
//! English) and delivers them over SMTP with lettre, or, when no SMTP server is configured
//! (development), writes them as `.eml` files in the data directory.
//!
//! Every attempt of one outbox entry carries the same `Message-ID` (`<entry id@sender
//! domain>`), so a mail resent after a crash between delivery and bookkeeping can be recognised
//! as the same message.

mod embedded;
mod render;
mod smtp;

#[cfg(feature = "testing")]
pub mod testing;

pub use render::{RenderError, Rendered, Renderer};
pub use smtp::{FileMailer, MailerConfigError, SmtpMailer, SmtpSettings};
