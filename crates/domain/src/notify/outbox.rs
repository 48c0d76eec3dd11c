//! Outbox entries and their delivery rules.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

pub use crate::identity::Language;
use crate::identity::{Email, NotificationPrefs};

/// Which mail. The string form names the template files and is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MailTemplate {
    /// After registration.
    Welcome,
    /// A link to verify the address (registration, resend).
    VerifyEmail,
    /// Someone tried to register with an address that has an account.
    AccountExists,
    /// A link to reset a forgotten password.
    PasswordReset,
    /// The password was changed or reset.
    PasswordChanged,
    /// A link, sent to the new address, to confirm an address change.
    ConfirmEmailChange,
    /// Sent to the old address once the change applied.
    EmailChanged,
    /// To the partner who invited, when the other partner joined with the invite code.
    PartnerJoined,
    /// An invitation to join a tenant, with its link, to an address that may have no account.
    TenantInvitation,
}

/// What a mail is about, which decides whether the recipient's notification preferences may
/// stop it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MailCategory {
    /// The account and its security: address verification, password reset, notices of a
    /// changed password or address, a registration attempt with the address, the welcome.
    /// Always sent: the user needs them to keep control of the account.
    Account,
    /// Engagement from the couple's life (a partner joined, ...): sent only to a user whose
    /// `notifications.email` is on.
    Couple,
    /// An invitation someone sent on purpose, one per request (rate-limited), to an address
    /// that may have no account: always sent.
    Invitation,
}

impl MailCategory {
    /// Whether a user with these preferences gets mails of this category.
    pub fn wanted_by(self, prefs: &NotificationPrefs) -> bool {
        match self {
            Self::Account | Self::Invitation => true,
            Self::Couple => prefs.email,
        }
    }
}

impl MailTemplate {
    /// Every template.
    pub const ALL: [Self; 9] = [
        Self::Welcome,
        Self::VerifyEmail,
        Self::AccountExists,
        Self::PasswordReset,
        Self::PasswordChanged,
        Self::ConfirmEmailChange,
        Self::EmailChanged,
        Self::PartnerJoined,
        Self::TenantInvitation,
    ];

    /// Its category (exhaustive: a new template must choose).
    pub fn category(self) -> MailCategory {
        match self {
            Self::Welcome
            | Self::VerifyEmail
            | Self::AccountExists
            | Self::PasswordReset
            | Self::PasswordChanged
            | Self::ConfirmEmailChange
            | Self::EmailChanged => MailCategory::Account,
            Self::PartnerJoined => MailCategory::Couple,
            Self::TenantInvitation => MailCategory::Invitation,
        }
    }

    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Welcome => "welcome",
            Self::VerifyEmail => "verify_email",
            Self::AccountExists => "account_exists",
            Self::PasswordReset => "password_reset",
            Self::PasswordChanged => "password_changed",
            Self::ConfirmEmailChange => "confirm_email_change",
            Self::EmailChanged => "email_changed",
            Self::PartnerJoined => "partner_joined",
            Self::TenantInvitation => "tenant_invitation",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// A mail to send: who, in which language, which template, with which values.
#[derive(Clone, PartialEq, Eq)]
pub struct OutboundMail {
    /// Recipient.
    pub to: Email,
    /// Language of the text.
    pub language: Language,
    /// Template.
    pub template: MailTemplate,
    /// Values the template uses (`link`, `name`, ...). May hold a one-time token inside a
    /// link; never a password.
    pub vars: BTreeMap<String, String>,
}

impl std::fmt::Debug for OutboundMail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Values can hold one-time links: show which ones there are, not what they say.
        f.debug_struct("OutboundMail")
            .field("to", &self.to)
            .field("language", &self.language)
            .field("template", &self.template)
            .field("vars", &self.vars.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Where an entry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryState {
    /// Waiting for its next attempt.
    Pending,
    /// Accepted by the mail server.
    Sent,
    /// Refused for good, or out of attempts; kept with its error for an operator.
    Failed,
}

impl DeliveryState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "sent" => Some(Self::Sent),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// After this many attempts a transient failure becomes a permanent one: with [`backoff`] the
/// retries span about 2.4 days, so a mail server down for a long weekend night loses nothing.
pub const MAX_ATTEMPTS: u32 = 20;

/// The first retry's wait in production; each later one doubles it.
pub const RETRY_BASE: Duration = Duration::seconds(15);

/// Wait before attempt `attempts + 1`: `base`, then doubling (15 s, 30 s, 1 min, ... with the
/// default base), at most 6 hours.
pub fn backoff(base: Duration, attempts: u32) -> Duration {
    let exp = attempts.saturating_sub(1).min(20);
    let ms = base.num_milliseconds().max(1).saturating_mul(1_i64 << exp);
    Duration::milliseconds(ms.min(6 * 3_600_000))
}

/// One outbox row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    /// Id; also the stable part of the Message-ID, so a resend after a crash is recognisable.
    pub id: Uuid,
    /// The mail.
    pub mail: OutboundMail,
    /// State.
    pub state: DeliveryState,
    /// Attempts started so far.
    pub attempts: u32,
    /// When the next attempt may start.
    pub next_attempt_at: DateTime<Utc>,
    /// While set and in the future, a worker holds the entry.
    pub lease_until: Option<DateTime<Utc>>,
    /// The last failure.
    pub last_error: Option<String>,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// When the server accepted it.
    pub sent_at: Option<DateTime<Utc>>,
}

impl OutboxEntry {
    /// A new pending entry, due at once.
    pub fn new(id: Uuid, mail: OutboundMail, now: DateTime<Utc>) -> Self {
        Self {
            id,
            mail,
            state: DeliveryState::Pending,
            attempts: 0,
            next_attempt_at: now,
            lease_until: None,
            last_error: None,
            created_at: now,
            sent_at: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_then_caps() {
        assert_eq!(backoff(RETRY_BASE, 1), Duration::seconds(15));
        assert_eq!(backoff(RETRY_BASE, 2), Duration::seconds(30));
        assert_eq!(backoff(RETRY_BASE, 3), Duration::seconds(60));
        assert_eq!(backoff(RETRY_BASE, 40), Duration::hours(6));
        assert_eq!(
            backoff(Duration::milliseconds(100), 2),
            Duration::milliseconds(200)
        );
        let total: i64 = (1..MAX_ATTEMPTS)
            .map(|a| backoff(RETRY_BASE, a).num_seconds())
            .sum();
        assert!(
            total > 2 * 86_400,
            "retries span days, not minutes: {total}s"
        );
    }

    #[test]
    fn account_mails_ignore_the_preferences_and_couple_mails_follow_them() {
        let off = NotificationPrefs {
            email: false,
            push: true,
        };
        let on = NotificationPrefs {
            email: true,
            push: false,
        };
        for t in MailTemplate::ALL {
            match t.category() {
                MailCategory::Account | MailCategory::Invitation => {
                    assert!(t.category().wanted_by(&off), "{t:?}");
                }
                MailCategory::Couple => {
                    assert!(
                        !t.category().wanted_by(&off) && t.category().wanted_by(&on),
                        "{t:?}"
                    );
                }
            }
        }
        assert_eq!(
            MailTemplate::PasswordReset.category(),
            MailCategory::Account
        );
        assert_eq!(MailTemplate::PartnerJoined.category(), MailCategory::Couple);
        assert_eq!(
            MailTemplate::TenantInvitation.category(),
            MailCategory::Invitation
        );
    }

    #[test]
    fn names_round_trip() {
        for t in MailTemplate::ALL {
            assert_eq!(MailTemplate::parse(t.as_str()), Some(t));
        }
        for s in [
            DeliveryState::Pending,
            DeliveryState::Sent,
            DeliveryState::Failed,
        ] {
            assert_eq!(DeliveryState::parse(s.as_str()), Some(s));
        }
    }
}
