//! Mail: the SMTP server, the sender, and the outbox's retry pace (delivery itself is the
//! `mail-delivery` background job: see the jobs settings).

use chrono::Duration;

use super::declare::section;

section! {
    /// Mail and the outbox.
    pub struct Mail in "mail" () {
        /// `smtp://host:25`, `smtp://user:pass@host:587?tls=required`,
        /// `smtps://user:pass@host:465`; required in production
        smtp_url: Option<String> = none
            shown "none: mail is written as `.eml` files to `<data dir>/mail`",
            env "ACCUEIL_SMTP_URL", sample "smtp://user:pw@mail.example:587?tls=required",
            redact credentials;
        /// sender
        from: String = "Accueil <no-reply@localhost>",
            env "ACCUEIL_MAIL_FROM", sample "Accueil <no-reply@app.example>";
        /// SMTP connection and command timeout
        timeout: Duration = "10s", env "ACCUEIL_SMTP_TIMEOUT", sample "30s";
        /// deprecated, no effect (a warning at start): mail goes out through the jobs runner,
        /// within `ACCUEIL_JOBS_POLL` of being written
        outbox_poll: Duration = "2s", env "ACCUEIL_OUTBOX_POLL", sample "5s";
        /// first retry delay after a failed delivery; doubles each time, up to 6 hours, 20 attempts
        outbox_retry_base: Duration = "15s", env "ACCUEIL_OUTBOX_RETRY_BASE", sample "1m";
    }
}
