//! Notifications: the transactional outbox of e-mails.
//!
//! A use case that causes a mail writes an [`OutboxEntry`] in its own transaction; a worker
//! delivers due entries afterwards, retrying with exponential backoff, so a mail is never lost
//! between the commit and the SMTP server, and is sent at least once with a stable Message-ID.

mod outbox;

pub use outbox::{
    DeliveryState, Language, MAX_ATTEMPTS, MailCategory, MailTemplate, OutboundMail, OutboxEntry,
    RETRY_BASE, backoff,
};
