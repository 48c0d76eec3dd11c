//! Delivery: SMTP with lettre, or `.eml` files for development.

use std::path::PathBuf;
use std::time::Duration;

use accueil_domain::notify::OutboundMail;
use accueil_ports::notify::{Mailer, SendError};
use async_trait::async_trait;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use uuid::Uuid;

use crate::render::Renderer;

/// SMTP settings.
#[derive(Clone)]
pub struct SmtpSettings {
    /// lettre's URL form: `smtp://host:25`, `smtp://user:pass@host:587?tls=required`,
    /// `smtps://user:pass@host:465`.
    pub url: String,
    /// The `From:` mailbox, e.g. `Accueil <no-reply@example.org>`.
    pub from: String,
    /// Connection and command timeout.
    pub timeout: Duration,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("url", &redact(&self.url))
            .field("from", &self.from)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// The URL without its password.
fn redact(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((userinfo, host)) => {
                let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
                format!("{scheme}://{user}:***@{host}")
            }
            None => url.to_owned(),
        },
        None => "<smtp url>".to_owned(),
    }
}

/// A mailer setting is unusable.
#[derive(Debug, thiserror::Error)]
pub enum MailerConfigError {
    /// `ACCUEIL_MAIL_FROM` is not a mailbox.
    #[error("ACCUEIL_MAIL_FROM {0:?} is not a mailbox (e.g. `Accueil <no-reply@example.org>`)")]
    From(String),
    /// `ACCUEIL_SMTP_URL` is not usable.
    #[error("ACCUEIL_SMTP_URL: {0}")]
    Url(String),
    /// The mail directory cannot be created.
    #[error("cannot create the mail directory {0}: {1}")]
    Directory(String, std::io::Error),
}

fn parse_from(from: &str) -> Result<Mailbox, MailerConfigError> {
    from.parse::<Mailbox>()
        .map_err(|_| MailerConfigError::From(from.to_owned()))
}

/// Builds the message: both parts, and the stable Message-ID.
fn build(
    renderer: &Renderer,
    from: &Mailbox,
    message_id: Uuid,
    mail: &OutboundMail,
) -> Result<Message, SendError> {
    let rendered = renderer
        .render(mail)
        .map_err(|e| SendError::Permanent(e.to_string()))?;
    let to: Mailbox = mail
        .to
        .as_str()
        .parse()
        .map_err(|e| SendError::Permanent(format!("recipient {}: {e}", mail.to)))?;
    let domain = from.email.domain();
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(rendered.subject)
        .message_id(Some(format!("<{message_id}@{domain}>")))
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(rendered.text),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(rendered.html),
                ),
        )
        .map_err(|e| SendError::Permanent(format!("cannot build the message: {e}")))
}

/// Delivers over SMTP.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    renderer: Renderer,
    describe: String,
}

impl SmtpMailer {
    /// A mailer for these settings. Does not connect yet.
    ///
    /// # Errors
    /// A [`MailerConfigError`] when the URL or the sender is malformed.
    pub fn new(settings: &SmtpSettings, renderer: Renderer) -> Result<Self, MailerConfigError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&settings.url)
            .map_err(|e| MailerConfigError::Url(e.to_string()))?
            .timeout(Some(settings.timeout))
            .build();
        Ok(Self {
            transport,
            from: parse_from(&settings.from)?,
            renderer,
            describe: format!("SMTP {} as {}", redact(&settings.url), settings.from),
        })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, message_id: Uuid, mail: &OutboundMail) -> Result<(), SendError> {
        let message = build(&self.renderer, &self.from, message_id, mail)?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            // 5xx: the server will never take this message as it is.
            Err(e) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
            // 4xx, refused or dropped connections, timeouts, TLS trouble: try again later.
            Err(e) => Err(SendError::Transient(e.to_string())),
        }
    }

    fn describe(&self) -> String {
        self.describe.clone()
    }
}

/// Writes each mail as an `.eml` file (development, when no SMTP server is configured).
pub struct FileMailer {
    transport: AsyncFileTransport<Tokio1Executor>,
    dir: PathBuf,
    from: Mailbox,
    renderer: Renderer,
}

impl FileMailer {
    /// A mailer writing into `dir` (created if missing).
    ///
    /// # Errors
    /// A [`MailerConfigError`] when the directory cannot be created or the sender is malformed.
    pub fn new(dir: PathBuf, from: &str, renderer: Renderer) -> Result<Self, MailerConfigError> {
        std::fs::create_dir_all(&dir)
            .map_err(|e| MailerConfigError::Directory(dir.display().to_string(), e))?;
        Ok(Self {
            transport: AsyncFileTransport::new(&dir),
            dir,
            from: parse_from(from)?,
            renderer,
        })
    }
}

#[async_trait]
impl Mailer for FileMailer {
    async fn send(&self, message_id: Uuid, mail: &OutboundMail) -> Result<(), SendError> {
        let message = build(&self.renderer, &self.from, message_id, mail)?;
        let file = self
            .transport
            .send(message)
            .await
            .map_err(|e| SendError::Transient(e.to_string()))?;
        tracing::info!(
            path = %self.dir.join(format!("{file}.eml")).display(),
            template = mail.template.as_str(),
            "mail written to a file (no SMTP server configured)"
        );
        Ok(())
    }

    fn describe(&self) -> String {
        format!(
            "files in {} (no SMTP server configured)",
            self.dir.display()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_never_show() {
        assert_eq!(
            redact("smtp://u:s3cret@mail.example:587?tls=required"),
            "smtp://u:***@mail.example:587?tls=required"
        );
        assert_eq!(redact("smtp://127.0.0.1:2525"), "smtp://127.0.0.1:2525");
    }
}
