//! Audit events: an append-only record of security-relevant changes.
//!
//! An audit row is written in the same transaction as the change it records, so the log never
//! claims a change that was rolled back and never misses one that committed.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::identity::UserId;

/// What happened. The string form is stored and is part of the export format: never rename.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditAction {
    /// An account was created by registration.
    UserRegistered,
    /// An account was created as an administrator from the command line.
    AdminCreated,
    /// An existing account was given the admin role from the command line.
    AdminPromoted,
    /// An administrator's password was replaced from the command line.
    AdminPasswordReset,
    /// A used refresh token was presented again; its whole session family was revoked.
    RefreshTokenReuse,
    /// Every session of a user was revoked at the user's request.
    AllSessionsRevoked,
    /// The user proved control of their address.
    EmailVerified,
    /// The password was reset through an e-mailed link.
    PasswordReset,
    /// The user changed their password.
    PasswordChanged,
    /// The account's address changed (after the new one was verified).
    EmailChanged,
    /// The user deleted their account (soft delete, anonymised).
    UserDeleted,
    /// An operator disabled the account.
    UserDisabled,
    /// An operator enabled the account again.
    UserEnabled,
    /// The user created an API key.
    ApiKeyCreated,
    /// The user revoked an API key.
    ApiKeyRevoked,
    /// An external identity was linked to the account.
    IdentityLinked,
    /// An external identity was unlinked from the account.
    IdentityUnlinked,
    /// An agent called a ticket out of turn (not the one `call-next` would give).
    TicketCalledOutOfTurn,
}

impl AuditAction {
    /// The stable stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UserRegistered => "user.registered",
            Self::AdminCreated => "admin.created",
            Self::AdminPromoted => "admin.promoted",
            Self::AdminPasswordReset => "admin.password_reset",
            Self::RefreshTokenReuse => "session.refresh_token_reuse",
            Self::AllSessionsRevoked => "session.all_revoked",
            Self::EmailVerified => "user.email_verified",
            Self::PasswordReset => "user.password_reset",
            Self::PasswordChanged => "user.password_changed",
            Self::EmailChanged => "user.email_changed",
            Self::UserDeleted => "user.deleted",
            Self::UserDisabled => "user.disabled",
            Self::UserEnabled => "user.enabled",
            Self::ApiKeyCreated => "api_key.created",
            Self::ApiKeyRevoked => "api_key.revoked",
            Self::IdentityLinked => "identity.linked",
            Self::IdentityUnlinked => "identity.unlinked",
            Self::TicketCalledOutOfTurn => "ticket.called_out_of_turn",
        }
    }

    /// Every action.
    pub const ALL: [Self; 18] = [
        Self::UserRegistered,
        Self::AdminCreated,
        Self::AdminPromoted,
        Self::AdminPasswordReset,
        Self::RefreshTokenReuse,
        Self::AllSessionsRevoked,
        Self::EmailVerified,
        Self::PasswordReset,
        Self::PasswordChanged,
        Self::EmailChanged,
        Self::UserDeleted,
        Self::UserDisabled,
        Self::UserEnabled,
        Self::ApiKeyCreated,
        Self::ApiKeyRevoked,
        Self::IdentityLinked,
        Self::IdentityUnlinked,
        Self::TicketCalledOutOfTurn,
    ];

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// One audit row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// Row id (UUIDv7, so ids sort by time).
    pub id: Uuid,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// Who caused it, when a user did.
    pub actor: Option<UserId>,
    /// What happened.
    pub action: AuditAction,
    /// The user it happened to.
    pub subject: Option<UserId>,
    /// A short free-form detail for investigators; never a secret.
    pub detail: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_round_trip() {
        for a in AuditAction::ALL {
            assert_eq!(AuditAction::parse(a.as_str()), Some(a));
        }
        assert_eq!(AuditAction::parse("nope"), None);
    }
}
