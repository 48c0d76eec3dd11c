//! Identity use cases: registration, login, token refresh with reuse detection, logout,
//! authentication of access tokens, and administrator creation.

mod account;
mod api_keys;
mod authenticate;
mod email;
mod login;
mod logout;
mod oauth;
mod password;
mod profile;
mod refresh;
mod register;

use accueil_domain::admin::{AuditAction, AuditEvent};
use accueil_domain::events::Event;
use accueil_domain::identity::{
    Email, EmailToken, RefreshToken, Session, SessionId, TokenProblem, TokenPurpose, User, UserId,
};
use accueil_domain::limits::Rate;
use accueil_domain::notify::MailTemplate;
use accueil_ports::StoreError;
use accueil_ports::Tx;
use chrono::{DateTime, Duration, Utc};

use crate::Ports;
use crate::notify::UserMail;

pub use crate::lifecycle::AccountExport;
pub use account::{DeleteAccountError, ExportError};
// RateLimits and RateLimited are defined below.
pub use accueil_ports::identity::oauth::OAuthError;
pub use api_keys::{CreateApiKeyError, CreatedApiKey, RevokeApiKeyError};
pub use authenticate::{AuthError, Caller, Credential, Principal, SessionError, SessionRequired};
pub(crate) use authenticate::{KeyToTouch, authenticate_in};
pub use email::{
    ChangeEmailError, PasswordCheckError, ReauthenticationRequired, ResendError, VerifyEmailError,
};
pub use login::LoginError;
pub use oauth::{
    CallbackOutcome, LinkToken, OAuthFlowError, OAuthLinkError, OAuthStartError, ProviderCallback,
    ProviderUnavailable, StartLinkError, StartedFlow, UnlinkError,
};
pub use password::{ChangePasswordError, ForgotPasswordError, ResetPasswordError};
pub use profile::{AccountView, UpdateProfileError};
pub use refresh::RefreshError;
pub use register::RegisterError;

/// Rate limits of the operations that guess credentials or send mail. Every rule applies to
/// known and unknown accounts alike, so a refusal reveals nothing.
#[derive(Debug, Clone, Copy)]
pub struct RateLimits {
    /// Logins per client address.
    pub login_ip: Rate,
    /// Logins per account name (e-mail or username, existing or not).
    pub login_account: Rate,
    /// Registrations per client address.
    pub register_ip: Rate,
    /// Mail-sending requests (registration, forgot-password, resend, address change) per
    /// client address.
    pub mail_ip: Rate,
    /// Mail-sending requests per target address or account.
    pub mail_account: Rate,
}

impl Default for RateLimits {
    fn default() -> Self {
        let r = |count, minutes| Rate {
            count,
            period: Duration::minutes(minutes),
        };
        Self {
            login_ip: r(30, 5),
            login_account: r(10, 15),
            register_ip: r(10, 60),
            mail_ip: r(20, 60),
            mail_account: r(5, 60),
        }
    }
}

/// Password sign-in is off (OAuth-only mode): the password use cases refuse to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("password sign-in is turned off on this server")]
pub struct PasswordAuthDisabled;

impl IdentityService {
    /// Refuses when password sign-in is off.
    fn passwords_on(&self) -> Result<(), PasswordAuthDisabled> {
        if self.settings.password_auth {
            Ok(())
        } else {
            Err(PasswordAuthDisabled)
        }
    }
}

/// A request over a rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many requests; retry in {} s", .retry_after.num_seconds())]
pub struct RateLimited {
    /// How long to wait.
    pub retry_after: Duration,
}

/// Identity settings.
#[derive(Debug, Clone)]
pub struct IdentitySettings {
    /// Lifetime of each refresh token (renewed on every rotation).
    pub refresh_ttl: Duration,
    /// Base of every link in a mail (the web app's address), never taken from a request.
    pub public_url: String,
    /// Whether login requires a verified address.
    pub require_verified_email: bool,
    /// How long a deleted account is kept (anonymised) before `purge-deleted` removes it.
    pub deletion_grace: Duration,
    /// Rate limits.
    pub limits: RateLimits,
    /// Whether accounts may sign in with a password (off: OAuth-only mode).
    pub password_auth: bool,
}

impl Default for IdentitySettings {
    fn default() -> Self {
        Self {
            refresh_ttl: Duration::days(30),
            public_url: "http://127.0.0.1:8080".into(),
            require_verified_email: false,
            deletion_grace: Duration::days(30),
            limits: RateLimits::default(),
            password_auth: true,
        }
    }
}

/// A new access and refresh token pair.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenPair {
    /// The JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// The opaque refresh token, shown once.
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// The user signed in.
    pub user_id: UserId,
}

impl std::fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenPair")
            .field("expires_in", &self.expires_in)
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

/// The identity use cases.
#[derive(Clone)]
pub struct IdentityService {
    ports: Ports,
    settings: IdentitySettings,
    hooks: crate::lifecycle::Hooks,
}

impl IdentityService {
    /// A service over these ports; `hooks` are the modules that take part in an account's
    /// export and deletion.
    pub fn new(ports: Ports, settings: IdentitySettings, hooks: crate::lifecycle::Hooks) -> Self {
        Self {
            ports,
            settings,
            hooks,
        }
    }

    /// A fresh refresh token for `session`, to be inserted in the caller's unit of work.
    fn new_refresh_token(&self, session: &Session, now: DateTime<Utc>) -> (String, RefreshToken) {
        let opaque = self.ports.opaque_tokens.generate();
        let token = RefreshToken {
            id: self.ports.ids.new_id(),
            session_id: session.id,
            user_id: session.user_id,
            digest: opaque.digest,
            issued_at: now,
            expires_at: now + self.settings.refresh_ttl,
            used_at: None,
        };
        (opaque.secret, token)
    }

    /// Signs the access token that goes with a refresh token.
    fn pair(
        &self,
        user: &User,
        session_id: SessionId,
        refresh_secret: String,
        now: DateTime<Utc>,
    ) -> Result<TokenPair, accueil_ports::system::AccessTokenError> {
        let access = self
            .ports
            .access_tokens
            .issue(user.id, session_id, &user.roles(), now)?;
        Ok(TokenPair {
            access_token: access.token,
            refresh_token: refresh_secret,
            expires_in: (access.expires_at - now).num_seconds(),
            user_id: user.id,
        })
    }

    fn audit_event(
        &self,
        at: DateTime<Utc>,
        action: AuditAction,
        actor: Option<UserId>,
        subject: UserId,
        detail: impl Into<String>,
    ) -> AuditEvent {
        crate::admin::audit_event(&self.ports, at, action, actor, subject, detail)
    }
}

/// Where an e-mailed link points: a page of the web app at the public URL.
#[derive(Debug, Clone, Copy)]
enum LinkPage {
    VerifyEmail,
    ResetPassword,
    ForgotPassword,
}

/// A client address, as a rate-limit key.
pub(crate) fn ip_key(ip: Option<std::net::IpAddr>) -> Option<String> {
    ip.map(|i| i.to_string())
}

impl IdentityService {
    /// Counts one request against each applicable rule (`None` keys are skipped).
    fn limit(&self, rules: &[(&str, Option<&str>, Rate)]) -> Result<(), RateLimited> {
        let now = self.ports.clock.now();
        for (bucket, key, rate) in rules {
            if let Some(key) = key {
                self.ports
                    .limiter
                    .hit(bucket, key, *rate, now)
                    .map_err(|retry_after| RateLimited { retry_after })?;
            }
        }
        Ok(())
    }

    fn link(&self, page: LinkPage, secret: Option<&str>) -> String {
        let base = self.settings.public_url.trim_end_matches('/');
        let path = match page {
            LinkPage::VerifyEmail => "verify-email",
            LinkPage::ResetPassword => "reset-password",
            LinkPage::ForgotPassword => "forgot-password",
        };
        match secret {
            Some(s) => format!("{base}/{path}?token={s}"),
            None => format!("{base}/{path}"),
        }
    }

    /// A mail for `user`, in their language, sent to `to` (their address unless said
    /// otherwise), for [`crate::notify::enqueue`].
    fn mail(
        &self,
        user: &User,
        to: Option<&Email>,
        template: MailTemplate,
        vars: &[(&str, String)],
        now: DateTime<Utc>,
    ) -> UserMail {
        UserMail::new(self.ports.ids.new_id(), user, to, template, vars, now)
    }

    /// Queues the "your password was changed" mail, with the link to reset it if that was not
    /// them.
    ///
    /// # Errors
    /// A [`StoreError`] when the outbox refuses it.
    fn tell_password_changed(
        &self,
        tx: &mut dyn Tx,
        user: &User,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let link = self.link(LinkPage::ForgotPassword, None);
        crate::notify::enqueue(
            tx,
            &self.mail(
                user,
                None,
                MailTemplate::PasswordChanged,
                &[("link", link)],
                now,
            ),
        )
        .map(|_| ())
    }

    /// A new one-time token for `user`; the secret goes into a link, the token into storage.
    fn email_token(
        &self,
        user: UserId,
        purpose: TokenPurpose,
        new_email: Option<Email>,
        now: DateTime<Utc>,
    ) -> (String, EmailToken) {
        let opaque = self.ports.opaque_tokens.generate();
        let token = EmailToken::issue(
            self.ports.ids.new_id(),
            user,
            purpose,
            opaque.digest,
            new_email,
            now,
        );
        (opaque.secret, token)
    }
}

/// Finds a usable one-time token and its live user, and marks the token used, inside the
/// caller's unit of work.
fn redeem(
    tx: &mut dyn Tx,
    digest: &accueil_domain::identity::TokenDigest,
    purposes: &[TokenPurpose],
    now: DateTime<Utc>,
) -> Result<Result<(EmailToken, User), TokenProblem>, StoreError> {
    let Some(token) = tx.email_tokens().email_token_by_digest(digest)? else {
        return Ok(Err(TokenProblem::Invalid));
    };
    if !purposes.contains(&token.purpose) {
        return Ok(Err(TokenProblem::Invalid));
    }
    if let Err(p) = token.check(token.purpose, now) {
        return Ok(Err(p));
    }
    let user = match tx.users().user_for_update(token.user_id)? {
        Some(u) if !u.is_deleted() && u.is_active => u,
        _ => return Ok(Err(TokenProblem::Invalid)),
    };
    if !tx.email_tokens().use_email_token(token.id, now)? {
        return Ok(Err(TokenProblem::Used));
    }
    Ok(Ok((token, user)))
}

/// Ends a live session, and tells its realtime connections to close (they check it when the
/// event arrives). Returns whether it was live. The one way use cases end a session (clippy
/// refuses the repository method elsewhere).
///
/// # Errors
/// The store's error.
#[allow(clippy::disallowed_methods)]
pub(crate) fn end_session(
    tx: &mut dyn Tx,
    session: SessionId,
    at: DateTime<Utc>,
    reason: &str,
) -> Result<bool, StoreError> {
    let live = tx.sessions().revoke_session(session, at, reason)?;
    if live {
        tx.emit(Event::SessionEnded { session });
    }
    Ok(live)
}

/// Ends every live session of `user`, and closes every realtime connection of theirs (also
/// those opened with an API key: a disabled or deleted account keeps none). Returns how many
/// sessions were live.
///
/// # Errors
/// The store's error.
#[allow(clippy::disallowed_methods)]
pub(crate) fn end_user_sessions(
    tx: &mut dyn Tx,
    user: UserId,
    at: DateTime<Utc>,
    reason: &str,
) -> Result<u64, StoreError> {
    let ended = tx.sessions().revoke_user_sessions(user, at, reason)?;
    tx.emit(Event::UserSessionsEnded { user });
    Ok(ended)
}

/// Revokes a session family and records why, inside the caller's unit of work.
fn revoke_family(
    tx: &mut dyn Tx,
    event: AuditEvent,
    session: SessionId,
    reason: &str,
) -> Result<(), StoreError> {
    if crate::identity::end_session(tx, session, event.at, reason)? {
        tx.audit().record(&event)?;
    }
    Ok(())
}
