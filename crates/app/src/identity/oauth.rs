//! Sign-in with external providers (OAuth 2.0 and OpenID Connect).
//!
//! `oauth_start` makes the flow's secrets — `state`, `nonce`, a PKCE verifier, and a binding
//! secret for a browser cookie — stores the flow under the state's digest for ten minutes, and
//! asks the provider adapter for the authorization URL. `oauth_callback` takes the flow (once),
//! checks that the callback comes from the browser that started it, has the adapter exchange
//! the code and verify the ID token, then signs in the identity's user, links the identity to
//! the signed-in user who started the flow, or creates an account. Identities are keyed by
//! (provider, subject); an existing account with the same address is linked only when the
//! provider vouches for the address *and* the user proves the account (`oauth_link` with its
//! password, or signing in and linking from their settings).

use accueil_domain::admin::AuditAction;
use accueil_domain::identity::{
    AvatarUrl, Email, ExternalIdentity, FLOW_TTL, FlowResponse, IdentityId, Language, OAuthFlow,
    PENDING_LINK_TTL, PendingLink, ProviderName, Role, Session, SessionId, Unmatched, User, UserId,
    unmatched,
};

use accueil_ports::identity::UserWriteError;
use accueil_ports::identity::oauth::{AuthorizationRequest, ExternalProfile, OAuthError};
use accueil_ports::system::{AccessTokenError, HashError};
use accueil_ports::{StoreError, StoreExt, Tx};
use uuid::Uuid;

use super::{
    AuthError, Caller, IdentityService, PasswordCheckError, RateLimited, SessionRequired, TokenPair,
};

/// A flow just started.
#[derive(Clone)]
pub struct StartedFlow {
    /// Where to send the browser.
    pub authorization_url: String,
    /// The secret for the binding cookie (the callback must bring it back).
    pub binding: String,
}

impl std::fmt::Debug for StartedFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL carries the state and the nonce.
        f.write_str("StartedFlow { <redacted> }")
    }
}

/// What the provider sent back to the callback, and the binding cookie.
#[derive(Clone, Default)]
pub struct ProviderCallback {
    /// `code`.
    pub code: Option<String>,
    /// `state`.
    pub state: Option<String>,
    /// `error`, when the user refused or the provider failed.
    pub error: Option<String>,
    /// The binding cookie's value.
    pub binding: Option<String>,
}

impl std::fmt::Debug for ProviderCallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderCallback")
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

/// What a callback did.
#[derive(Debug, Clone)]
pub enum CallbackOutcome {
    /// Signed in (the account was created when `new_account`).
    SignedIn {
        /// The new session's tokens.
        tokens: TokenPair,
        /// Whether the account was made by this sign-in.
        new_account: bool,
    },
    /// The identity was linked to the user who started the flow.
    Linked(ExternalIdentity),
}

/// The provider could not say where to send the browser: its metadata could not be fetched,
/// or made no sense. That is the only way a provider fails at the start (the port's contract:
/// codes and ID tokens come later), so a start answers it as the provider being unavailable.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct ProviderUnavailable(pub OAuthError);

/// Why a flow could not start ([`IdentityService::oauth_start`]).
#[derive(Debug, thiserror::Error)]
pub enum OAuthStartError {
    /// No provider of that name is configured.
    #[error("no such sign-in provider")]
    UnknownProvider,
    /// The provider could not give its authorization URL.
    #[error(transparent)]
    Provider(#[from] ProviderUnavailable),
    /// Too many starts from this client.
    #[error(transparent)]
    RateLimited(#[from] RateLimited),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a flow that links a provider to the signed-in caller could not start
/// ([`IdentityService::oauth_start_link`]).
#[derive(Debug, thiserror::Error)]
pub enum StartLinkError {
    /// Not authenticated.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// Linking needs a signed-in session, not an API key.
    #[error(transparent)]
    SessionRequired(#[from] SessionRequired),
    /// As any start.
    #[error(transparent)]
    Start(#[from] OAuthStartError),
}

impl From<StoreError> for StartLinkError {
    fn from(e: StoreError) -> Self {
        Self::Start(e.into())
    }
}

/// Why a flow failed at its callback ([`IdentityService::oauth_callback`]).
#[derive(Debug, thiserror::Error)]
pub enum OAuthFlowError {
    /// No provider of that name is configured.
    #[error("no such sign-in provider")]
    UnknownProvider,
    /// Missing, unknown, used or expired state, or a callback from another browser.
    #[error("invalid or expired sign-in state")]
    InvalidState,
    /// The provider sent an error instead of a code (the user refused, typically).
    #[error("the provider did not authorize: {0}")]
    Denied(String),
    /// No code in the callback.
    #[error("the callback has no code")]
    MissingCode,
    /// The provider step failed.
    #[error(transparent)]
    Provider(#[from] OAuthError),
    /// The provider gave no usable address, and one is needed to make an account.
    #[error("the provider shared no usable e-mail address")]
    EmailRequired,
    /// An account has this (verified) address: prove it with `oauth_link` and this token.
    #[error("an account already uses this address")]
    LinkRequired {
        /// For `oauth_link`, valid ten minutes.
        link_token: LinkToken,
    },
    /// An account has this address, which the provider does not vouch for: sign in to that
    /// account and link the provider from its settings.
    #[error("an account already uses this address; sign in to it to link this provider")]
    SignInToLink,
    /// The identity belongs to another account.
    #[error("this identity is linked to another account")]
    IdentityTaken,
    /// The account is disabled.
    #[error("this account is disabled")]
    AccountDisabled,
    /// Sign-in needs a verified address (`require_verified_email`) and this one is not; a
    /// verification mail can be requested.
    #[error(
        "verify your e-mail address first; POST /api/v1/auth/resend-verification sends a new link"
    )]
    EmailNotVerified,
    /// Signing the access token failed.
    #[error(transparent)]
    Token(#[from] AccessTokenError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl OAuthFlowError {
    /// The refusal's stable reason, for the log (the same word as the problem code the HTTP
    /// layer answers with; a test there keeps them equal). It names no token, code, secret or
    /// address.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::UnknownProvider => "unknown_provider",
            Self::InvalidState => "invalid_state",
            Self::Denied(_) => "provider_denied",
            Self::MissingCode => "missing_code",
            Self::Provider(OAuthError::CodeRejected(_)) => "code_rejected",
            Self::Provider(OAuthError::InvalidIdToken(_)) => "invalid_id_token",
            Self::Provider(OAuthError::UserInfoSubjectMismatch) => "userinfo_subject_mismatch",
            Self::Provider(OAuthError::Unavailable(_) | OAuthError::Protocol(_)) => {
                "provider_unavailable"
            }
            Self::EmailRequired => "provider_email_missing",
            Self::LinkRequired { .. } => "link_required",
            Self::SignInToLink => "sign_in_to_link",
            Self::IdentityTaken => "identity_linked_elsewhere",
            Self::AccountDisabled => "account_disabled",
            Self::EmailNotVerified => "email_not_verified",
            Self::Token(_) => "internal",
            Self::Store(StoreError::Unavailable(_)) => "storage_unavailable",
            Self::Store(_) => "internal",
        }
    }
}

/// Logs a refused callback: which provider (only a configured one: the path segment is the
/// client's text) and why, nothing the client or the provider sent.
fn log_refusal(provider: Option<&str>, error: &OAuthFlowError) {
    let provider = provider.unwrap_or("-");
    let reason = error.reason();
    match error {
        OAuthFlowError::Provider(_) | OAuthFlowError::Token(_) | OAuthFlowError::Store(_) => {
            tracing::warn!(provider, reason, "sign-in refused");
        }
        _ => tracing::info!(provider, reason, "sign-in refused"),
    }
}

/// Gives `user` the provider's picture as avatar if it has none (locked, so a concurrent
/// profile change is not lost).
fn adopt_picture(
    tx: &mut dyn Tx,
    user: UserId,
    picture: Option<&AvatarUrl>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), StoreError> {
    if picture.is_none() {
        return Ok(());
    }
    if let Some(mut account) = tx.users().user_for_update(user)?
        && account.adopt_provider_picture(picture, now)
    {
        tx.users().update_user(&account).map_err(|e| match e {
            UserWriteError::Store(e) => e,
            other => StoreError::Internal(other.to_string()),
        })?;
    }
    Ok(())
}

/// A link token: shown to the client once, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct LinkToken(pub String);

impl std::fmt::Debug for LinkToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkToken(<redacted>)")
    }
}

/// Why a pending link was refused.
#[derive(Debug, thiserror::Error)]
pub enum OAuthLinkError {
    /// Unknown, used or expired link token.
    #[error("invalid or expired link token")]
    InvalidLinkToken,
    /// The password is wrong (the link token is spent; sign in with the provider again).
    #[error("the password is not right")]
    WrongPassword,
    /// Too many password checks for this account.
    #[error(transparent)]
    RateLimited(#[from] RateLimited),
    /// The identity was linked to another account meanwhile.
    #[error("this identity is linked to another account")]
    IdentityTaken,
    /// The account is disabled.
    #[error("this account is disabled")]
    AccountDisabled,
    /// Hashing failed.
    #[error(transparent)]
    Hash(#[from] HashError),
    /// Signing the access token failed.
    #[error(transparent)]
    Token(#[from] AccessTokenError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<PasswordCheckError> for OAuthLinkError {
    fn from(e: PasswordCheckError) -> Self {
        match e {
            // Not reachable: a pending link is proven with a password, without a session.
            PasswordCheckError::SessionRequired(_)
            | PasswordCheckError::ReauthenticationRequired(_) => Self::WrongPassword,
            PasswordCheckError::RateLimited(r) => Self::RateLimited(r),
            PasswordCheckError::Hash(h) => Self::Hash(h),
            PasswordCheckError::Store(s) => Self::Store(s),
        }
    }
}

/// Why an identity could not be unlinked.
#[derive(Debug, thiserror::Error)]
pub enum UnlinkError {
    /// Not authenticated.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// Managing sign-in methods needs a session.
    #[error(transparent)]
    SessionRequired(#[from] SessionRequired),
    /// No such identity of the caller's.
    #[error("no such identity")]
    NotFound,
    /// It is the account's last way to sign in.
    #[error("this is the account's last way to sign in")]
    LastSignInMethod,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the unit of work of a callback decided.
enum Decision {
    SignIn {
        user: User,
        session: Session,
        new_account: bool,
    },
    Linked(ExternalIdentity),
    LinkRequired,
    Refused(OAuthFlowError),
}

impl IdentityService {
    /// Starts a sign-in flow with `provider`.
    ///
    /// Starting counts against the login limit of the client's address: each start stores a
    /// flow row until it is used or purged.
    ///
    /// # Errors
    /// See [`OAuthStartError`].
    pub async fn oauth_start(
        &self,
        provider: &str,
        response: FlowResponse,
        client_ip: Option<std::net::IpAddr>,
    ) -> Result<StartedFlow, OAuthStartError> {
        let (flow, started) = self.new_flow(provider, response, client_ip).await?;
        let now = flow.created_at;
        self.ports
            .store
            .write(move |tx| -> Result<(), StoreError> {
                tx.oauth().purge_oauth_before(now)?;
                tx.oauth().insert_oauth_flow(&flow)
            })
            .await?;
        Ok(started)
    }

    /// Starts a flow whose callback links `provider` to the signed-in caller instead of
    /// signing in. Counts against the login limit as [`Self::oauth_start`] does.
    ///
    /// # Errors
    /// See [`StartLinkError`]: `SessionRequired` when the caller came with an API key.
    pub async fn oauth_start_link(
        &self,
        provider: &str,
        response: FlowResponse,
        caller: &Caller,
        client_ip: Option<std::net::IpAddr>,
    ) -> Result<StartedFlow, StartLinkError> {
        let (mut flow, started) = self.new_flow(provider, response, client_ip).await?;
        let now = flow.created_at;
        self.ports
            .write_as(caller, move |cx| -> Result<(), StartLinkError> {
                flow.link_to = Some(cx.me.user.id);
                flow.link_session = Some(cx.me.session_id()?);
                cx.tx.oauth().purge_oauth_before(now)?;
                cx.tx.oauth().insert_oauth_flow(&flow)?;
                Ok(())
            })
            .await?;
        Ok(started)
    }

    /// A new flow with `provider` and what the client gets of it, not stored yet (expired flows
    /// go when a new one is stored, so the table stays small without a cron).
    async fn new_flow(
        &self,
        provider: &str,
        response: FlowResponse,
        client_ip: Option<std::net::IpAddr>,
    ) -> Result<(OAuthFlow, StartedFlow), OAuthStartError> {
        let ip = client_ip.map(|ip| ip.to_string());
        self.limit(&[("login:ip", ip.as_deref(), self.settings.limits.login_ip)])?;
        let adapter = self
            .ports
            .oauth
            .get(provider)
            .ok_or(OAuthStartError::UnknownProvider)?;
        let name = ProviderName::parse(provider).map_err(|_| OAuthStartError::UnknownProvider)?;
        let tokens = &self.ports.opaque_tokens;
        let (state, nonce, verifier, binding) = (
            tokens.generate(),
            tokens.generate().secret,
            tokens.generate().secret,
            tokens.generate(),
        );
        let authorization_url = adapter
            .authorization_url(AuthorizationRequest {
                state: &state.secret,
                nonce: &nonce,
                pkce_verifier: &verifier,
            })
            .await
            .map_err(ProviderUnavailable)?;
        let now = self.ports.clock.now();
        let flow = OAuthFlow {
            state_digest: state.digest,
            provider: name,
            nonce,
            pkce_verifier: verifier,
            binding_digest: binding.digest,
            response,
            link_to: None,
            link_session: None,
            expires_at: now + FLOW_TTL,
            created_at: now,
        };
        Ok((
            flow,
            StartedFlow {
                authorization_url,
                binding: binding.secret,
            },
        ))
    }

    /// Finishes a flow. The outer error means the flow could not be identified (its response
    /// mode is unknown); otherwise the flow's response mode comes with the outcome.
    ///
    /// # Errors
    /// `UnknownProvider` or `InvalidState` outside; everything else inside.
    pub async fn oauth_callback(
        &self,
        provider: &str,
        input: ProviderCallback,
    ) -> Result<(FlowResponse, Result<CallbackOutcome, OAuthFlowError>), OAuthFlowError> {
        let known = self.ports.oauth.get(provider).map(|_| provider);
        let answer = self.callback(provider, input).await;
        match &answer {
            Err(e) | Ok((_, Err(e))) => log_refusal(known, e),
            Ok((_, Ok(_))) => {}
        }
        answer
    }

    async fn callback(
        &self,
        provider: &str,
        input: ProviderCallback,
    ) -> Result<(FlowResponse, Result<CallbackOutcome, OAuthFlowError>), OAuthFlowError> {
        let adapter = self
            .ports
            .oauth
            .get(provider)
            .ok_or(OAuthFlowError::UnknownProvider)?;
        let state = input
            .state
            .as_deref()
            .filter(|s| !s.is_empty())
            .ok_or(OAuthFlowError::InvalidState)?;
        let digest = self.ports.opaque_tokens.digest(state);
        let now = self.ports.clock.now();
        // Taken whatever happens next: a state works once, even when the rest fails.
        let flow = self
            .ports
            .store
            .write(move |tx| tx.oauth().take_oauth_flow(&digest))
            .await?
            .ok_or(OAuthFlowError::InvalidState)?;
        let binding_ok = input
            .binding
            .as_deref()
            .is_some_and(|b| self.ports.opaque_tokens.digest(b) == flow.binding_digest);
        if flow.expires_at <= now || flow.provider.as_str() != provider || !binding_ok {
            return Err(OAuthFlowError::InvalidState);
        }
        let response = flow.response;
        let outcome = async {
            if let Some(error) = input.error {
                return Err(OAuthFlowError::Denied(error));
            }
            let code = input
                .code
                .filter(|c| !c.is_empty())
                .ok_or(OAuthFlowError::MissingCode)?;
            let profile = adapter
                .exchange(&code, &flow.pkce_verifier, &flow.nonce)
                .await?;
            self.settle(flow, profile).await
        }
        .await;
        Ok((response, outcome))
    }

    /// Signs in, links or creates, in one unit of work.
    async fn settle(
        &self,
        flow: OAuthFlow,
        profile: ExternalProfile,
    ) -> Result<CallbackOutcome, OAuthFlowError> {
        let now = self.ports.clock.now();
        let email = profile.email.as_deref().and_then(|e| Email::parse(e).ok());
        let identity = ExternalIdentity {
            id: IdentityId(self.ports.ids.new_id()),
            user_id: UserId(Uuid::nil()),
            provider: flow.provider.clone(),
            subject: profile.subject.clone(),
            email: email.as_ref().map(|e| e.as_str().to_owned()),
            created_at: now,
            last_used_at: Some(now),
            // Linking to a signed-in user proves the account; otherwise set below.
            proven: true,
        };
        let require_verified = self.settings.require_verified_email;
        let session_id = SessionId(self.ports.ids.new_id());
        let new_user_id = UserId(self.ports.ids.new_id());
        let link_secret = self.ports.opaque_tokens.generate();
        let link_digest = link_secret.digest.clone();
        let refresh = self.ports.opaque_tokens.generate();
        let refresh_ttl = self.settings.refresh_ttl;
        let refresh_id = self.ports.ids.new_id();
        let linked_event = self.audit_event(
            now,
            AuditAction::IdentityLinked,
            flow.link_to,
            flow.link_to.unwrap_or(new_user_id),
            format!("{} {}", flow.provider.as_str(), profile.subject),
        );
        let registered_event = self.audit_event(
            now,
            AuditAction::UserRegistered,
            Some(new_user_id),
            new_user_id,
            format!("via {}", flow.provider.as_str()),
        );
        let verified = profile.email_verified;
        // The provider's picture becomes the avatar of an account that has none, when the
        // identity is first linked to it (made with it, or linked later); later sign-ins leave
        // the avatar alone, so one the user removed stays removed.
        let picture = profile
            .picture
            .as_deref()
            .and_then(AvatarUrl::from_provider);
        let refresh_digest = refresh.digest.clone();
        let decision = self
            .ports
            .store
            .write(move |tx| -> Result<Decision, StoreError> {
                let start = |tx: &mut dyn Tx, user: User, new_account| {
                    let session = Session::start(session_id, user.id, now);
                    let token = accueil_domain::identity::RefreshToken {
                        id: refresh_id,
                        session_id,
                        user_id: user.id,
                        digest: refresh_digest.clone(),
                        issued_at: now,
                        expires_at: now + refresh_ttl,
                        used_at: None,
                    };
                    tx.sessions().insert_session(&session)?;
                    tx.sessions().insert_refresh_token(&token)?;
                    Ok::<_, StoreError>(Decision::SignIn {
                        user,
                        session,
                        new_account,
                    })
                };
                let known = tx
                    .oauth()
                    .identity_by_subject(&identity.provider, &identity.subject)?;
                if let Some(target) = flow.link_to {
                    // The user may have been disabled or deleted, or the session that started
                    // the flow ended (logout everywhere after a stolen token), since the start.
                    let usable = tx
                        .users()
                        .user_by_id(target)?
                        .is_some_and(|u| u.is_active && u.deleted_at.is_none());
                    if !usable {
                        return Ok(Decision::Refused(OAuthFlowError::AccountDisabled));
                    }
                    let live = match flow.link_session {
                        Some(sid) => tx
                            .sessions()
                            .session(sid)?
                            .is_some_and(|s| s.user_id == target && s.is_live()),
                        None => false,
                    };
                    if !live {
                        return Ok(Decision::Refused(OAuthFlowError::InvalidState));
                    }
                    return match known {
                        Some(k) if k.user_id == target => Ok(Decision::Linked(k)),
                        Some(_) => Ok(Decision::Refused(OAuthFlowError::IdentityTaken)),
                        None => {
                            let linked = ExternalIdentity {
                                user_id: target,
                                last_used_at: None,
                                ..identity
                            };
                            tx.oauth().insert_identity(&linked)?;
                            tx.audit().record(&linked_event)?;
                            adopt_picture(tx, target, picture.as_ref(), now)?;
                            Ok(Decision::Linked(linked))
                        }
                    };
                }
                if let Some(k) = known {
                    let Some(user) = tx.users().user_by_id(k.user_id)? else {
                        return Ok(Decision::Refused(OAuthFlowError::InvalidState));
                    };
                    if !user.is_active || user.deleted_at.is_some() {
                        return Ok(Decision::Refused(OAuthFlowError::AccountDisabled));
                    }
                    if require_verified && !user.email_verified {
                        return Ok(Decision::Refused(OAuthFlowError::EmailNotVerified));
                    }
                    tx.oauth().touch_identity(k.id, now)?;
                    return start(tx, user, false);
                }
                let Some(email) = email else {
                    return Ok(Decision::Refused(OAuthFlowError::EmailRequired));
                };
                let existing = tx.users().user_by_email(&email)?.map(|u| u.id);
                match unmatched(existing, verified) {
                    Unmatched::SignInToLink => Ok(Decision::Refused(OAuthFlowError::SignInToLink)),
                    Unmatched::LinkWithProof(user_id) => {
                        tx.oauth().insert_pending_link(&PendingLink {
                            digest: link_digest,
                            user_id,
                            provider: identity.provider.clone(),
                            subject: identity.subject.clone(),
                            email: identity.email.clone(),
                            expires_at: now + PENDING_LINK_TTL,
                        })?;
                        Ok(Decision::LinkRequired)
                    }
                    Unmatched::Create => {
                        let user = User {
                            id: new_user_id,
                            email,
                            username: None,
                            display_name: None,
                            password_hash: None,
                            role: Role::User,
                            email_verified: verified,
                            is_active: true,
                            language: Language::default(),
                            time_zone: None,
                            avatar_url: picture,
                            bio: None,
                            notifications: Default::default(),
                            deleted_at: None,
                            created_at: now,
                            updated_at: now,
                        };
                        tx.users()
                            .insert_user(&user)
                            .map_err(|e| StoreError::Conflict(e.to_string()))?;
                        tx.oauth().insert_identity(&ExternalIdentity {
                            user_id: user.id,
                            proven: verified,
                            ..identity
                        })?;
                        tx.audit().record(&registered_event)?;
                        tx.audit().record(&linked_event)?;
                        if require_verified && !verified {
                            return Ok(Decision::Refused(OAuthFlowError::EmailNotVerified));
                        }
                        start(tx, user, true)
                    }
                }
            })
            .await?;
        match decision {
            Decision::SignIn {
                user,
                session,
                new_account,
            } => {
                tracing::info!(user_id = %user.id, session_id = %session.id, "oauth sign-in");
                Ok(CallbackOutcome::SignedIn {
                    tokens: self.pair(&user, session.id, refresh.secret, now)?,
                    new_account,
                })
            }
            Decision::Linked(identity) => Ok(CallbackOutcome::Linked(identity)),
            Decision::LinkRequired => Err(OAuthFlowError::LinkRequired {
                link_token: LinkToken(link_secret.secret),
            }),
            Decision::Refused(e) => Err(e),
        }
    }

    /// Links a pending identity to its account once the account's password is given, and
    /// signs in.
    ///
    /// # Errors
    /// See [`OAuthLinkError`].
    pub async fn oauth_link(
        &self,
        link_token: &str,
        password: &str,
    ) -> Result<TokenPair, OAuthLinkError> {
        let digest = self.ports.opaque_tokens.digest(link_token);
        let now = self.ports.clock.now();
        // Taken at once: a link token allows one password guess.
        let pending = self
            .ports
            .store
            .write(
                move |tx| -> Result<Option<(PendingLink, Option<User>)>, StoreError> {
                    let Some(link) = tx.oauth().take_pending_link(&digest)? else {
                        return Ok(None);
                    };
                    let user = tx.users().user_by_id(link.user_id)?;
                    Ok(Some((link, user)))
                },
            )
            .await?;
        let Some((link, Some(user))) = pending else {
            return Err(OAuthLinkError::InvalidLinkToken);
        };
        if link.expires_at <= now {
            return Err(OAuthLinkError::InvalidLinkToken);
        }
        if !self.verify_typed_password(&user, password).await? {
            return Err(OAuthLinkError::WrongPassword);
        }
        if !user.is_active || user.deleted_at.is_some() {
            return Err(OAuthLinkError::AccountDisabled);
        }
        let session = Session::start(SessionId(self.ports.ids.new_id()), user.id, now);
        let (secret, token) = self.new_refresh_token(&session, now);
        let identity = ExternalIdentity {
            id: IdentityId(self.ports.ids.new_id()),
            user_id: user.id,
            provider: link.provider.clone(),
            subject: link.subject.clone(),
            email: link.email.clone(),
            created_at: now,
            last_used_at: Some(now),
            proven: true,
        };
        let event = self.audit_event(
            now,
            AuditAction::IdentityLinked,
            Some(user.id),
            user.id,
            format!("{} {}", link.provider.as_str(), link.subject),
        );
        let session_id = session.id;
        self.ports
            .store
            .write(move |tx| -> Result<(), OAuthLinkError> {
                if tx
                    .oauth()
                    .identity_by_subject(&identity.provider, &identity.subject)?
                    .is_some()
                {
                    return Err(OAuthLinkError::IdentityTaken);
                }
                tx.oauth().insert_identity(&identity)?;
                tx.audit().record(&event)?;
                tx.sessions().insert_session(&session)?;
                tx.sessions().insert_refresh_token(&token)?;
                Ok(())
            })
            .await?;
        Ok(self.pair(&user, session_id, secret, now)?)
    }

    /// The caller's linked identities, oldest first.
    ///
    /// # Errors
    /// A [`StoreError`].
    pub async fn identities(&self, caller: &Caller) -> Result<Vec<ExternalIdentity>, AuthError> {
        self.ports
            .read_as(caller, |cx| -> Result<Vec<ExternalIdentity>, AuthError> {
                Ok(cx.tx.oauth().identities_of(cx.me.user.id)?)
            })
            .await
    }

    /// Unlinks one of the caller's identities, unless the account could not sign in
    /// afterwards (no password, or password sign-in turned off, and no other identity).
    ///
    /// # Errors
    /// See [`UnlinkError`].
    pub async fn unlink_identity(&self, caller: &Caller, id: Uuid) -> Result<(), UnlinkError> {
        let password_counts = self.settings.password_auth;
        let providers = self.ports.oauth.clone();
        let this = self.clone();
        self.ports
            .write_as(caller, move |cx| -> Result<(), UnlinkError> {
                cx.me.session_id()?;
                let (uid, now, tx) = (cx.me.user.id, cx.now, &mut *cx.tx);
                let event = this.audit_event(
                    now,
                    AuditAction::IdentityUnlinked,
                    Some(uid),
                    uid,
                    id.to_string(),
                );
                // Locks the user: two concurrent unlinks cannot each leave the other's last.
                let user = tx
                    .users()
                    .user_for_update(uid)?
                    .ok_or(UnlinkError::NotFound)?;
                let mine = tx.oauth().identities_of(uid)?;
                if !mine.iter().any(|i| i.id.0 == id) {
                    return Err(UnlinkError::NotFound);
                }
                let has_password = password_counts && user.password_hash.is_some();
                // Only identities of configured providers can still sign in.
                let others = mine
                    .iter()
                    .filter(|i| i.id.0 != id && providers.get(i.provider.as_str()).is_some())
                    .count();
                if others == 0 && !has_password {
                    return Err(UnlinkError::LastSignInMethod);
                }
                tx.oauth().delete_identity(uid, IdentityId(id))?;
                tx.audit().record(&event)?;
                Ok(())
            })
            .await
    }

    /// Deletes the flows and pending links that expired; returns how many.
    ///
    /// # Errors
    /// A [`StoreError`].
    pub async fn purge_oauth(&self) -> Result<u64, StoreError> {
        let now = self.ports.clock.now();
        self.ports
            .store
            .write(move |tx| tx.oauth().purge_oauth_before(now))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Harness, idp_code};

    /// Runs a whole flow: start, the provider's answer, the callback.
    async fn sign_in(
        h: &Harness,
        subject: &str,
        email: &str,
        verified: bool,
        link_as: Option<&Caller>,
    ) -> Result<CallbackOutcome, OAuthFlowError> {
        let started = match link_as {
            Some(caller) => h
                .app
                .oauth_start_link("idp", FlowResponse::Json, caller, None)
                .await
                .unwrap(),
            None => h
                .app
                .oauth_start("idp", FlowResponse::Json, None)
                .await
                .unwrap(),
        };
        let (code, state) = idp_code(&started.authorization_url, subject, email, verified);
        let (response, outcome) = h
            .app
            .oauth_callback(
                "idp",
                ProviderCallback {
                    code: Some(code),
                    state: Some(state),
                    error: None,
                    binding: Some(started.binding),
                },
            )
            .await?;
        assert_eq!(response, FlowResponse::Json);
        outcome
    }

    fn signed_in(o: CallbackOutcome) -> (TokenPair, bool) {
        match o {
            CallbackOutcome::SignedIn {
                tokens,
                new_account,
            } => (tokens, new_account),
            CallbackOutcome::Linked(_) => panic!("linked, not signed in"),
        }
    }

    #[tokio::test]
    async fn first_sign_in_creates_the_account_and_later_ones_reuse_it() {
        let h = Harness::new();
        let (first, new) = signed_in(
            sign_in(&h, "s-1", "ann@idp.test", true, None)
                .await
                .unwrap(),
        );
        assert!(new);
        let (again, new) = signed_in(
            sign_in(&h, "s-1", "changed@idp.test", true, None)
                .await
                .unwrap(),
        );
        assert!(
            !new,
            "(provider, subject) finds the account, whatever the address says now"
        );
        assert_eq!(first.user_id, again.user_id);
        let who = h.signed_in(&again).await;
        assert!(who.user.password_hash.is_none(), "no password is stored");
        assert!(who.user.email_verified);
        assert_eq!(h.app.identities(&who).await.unwrap().len(), 1);
        assert!(matches!(
            h.app
                .unlink_identity(&who, h.app.identities(&who).await.unwrap()[0].id.0)
                .await,
            Err(UnlinkError::LastSignInMethod)
        ));
    }

    #[tokio::test]
    async fn a_state_works_once_from_the_browser_that_started_it() {
        let h = Harness::new();
        let started = h
            .app
            .oauth_start("idp", FlowResponse::Redirect, None)
            .await
            .unwrap();
        let (code, state) = idp_code(&started.authorization_url, "s", "a@idp.test", true);
        let call = |binding: Option<String>, state: Option<String>| {
            h.app.oauth_callback(
                "idp",
                ProviderCallback {
                    code: Some(code.clone()),
                    state,
                    error: None,
                    binding,
                },
            )
        };
        assert!(matches!(
            call(Some(started.binding.clone()), None).await,
            Err(OAuthFlowError::InvalidState)
        ));
        assert!(matches!(
            call(Some("another browser".into()), Some(state.clone())).await,
            Err(OAuthFlowError::InvalidState)
        ));
        assert!(
            matches!(
                call(Some(started.binding.clone()), Some(state.clone())).await,
                Err(OAuthFlowError::InvalidState)
            ),
            "the failed attempt spent the state"
        );
        assert!(matches!(
            h.app.oauth_start("nope", FlowResponse::Json, None).await,
            Err(OAuthStartError::UnknownProvider)
        ));
        let late = h
            .app
            .oauth_start("idp", FlowResponse::Json, None)
            .await
            .unwrap();
        h.advance(chrono::Duration::minutes(10));
        let (code, state) = idp_code(&late.authorization_url, "s", "a@idp.test", true);
        assert!(matches!(
            h.app
                .oauth_callback(
                    "idp",
                    ProviderCallback {
                        code: Some(code),
                        state: Some(state),
                        error: None,
                        binding: Some(late.binding)
                    }
                )
                .await,
            Err(OAuthFlowError::InvalidState)
        ));
    }

    #[tokio::test]
    async fn an_existing_address_links_only_with_proof() {
        let h = Harness::new();
        let owner = h.registered("ann@example.org", None).await;
        // Unverified by the provider: no link, not even with a password.
        assert!(matches!(
            sign_in(&h, "s-1", "ann@example.org", false, None).await,
            Err(OAuthFlowError::SignInToLink)
        ));
        // Verified: a link token, spent by a wrong password.
        let Err(OAuthFlowError::LinkRequired {
            link_token: LinkToken(link_token),
        }) = sign_in(&h, "s-1", "ann@example.org", true, None).await
        else {
            panic!("expected a link token")
        };
        let link = |token: String, password: &'static str| {
            let app = h.app.clone();
            async move { app.oauth_link(&token, password).await }
        };
        assert!(matches!(
            link(link_token.clone(), "wrong").await,
            Err(OAuthLinkError::WrongPassword)
        ));
        assert!(matches!(
            link(link_token.clone(), Harness::PASSWORD).await,
            Err(OAuthLinkError::InvalidLinkToken)
        ));
        let Err(OAuthFlowError::LinkRequired {
            link_token: LinkToken(link_token),
        }) = sign_in(&h, "s-1", "ann@example.org", true, None).await
        else {
            panic!("expected a link token")
        };
        let tokens = link(link_token.clone(), Harness::PASSWORD).await.unwrap();
        assert_eq!(tokens.user_id, owner.id);
        let (tokens, new) = signed_in(
            sign_in(&h, "s-1", "ann@example.org", true, None)
                .await
                .unwrap(),
        );
        assert_eq!(
            (tokens.user_id, new),
            (owner.id, false),
            "signs in to the linked account"
        );
    }

    #[tokio::test]
    async fn a_signed_in_user_links_and_unlinks() {
        let h = Harness::new();
        h.registered("ann@example.org", None).await;
        let ann = h.principal("ann@example.org").await;
        let linked = sign_in(&h, "s-9", "other@idp.test", false, Some(&ann))
            .await
            .unwrap();
        let CallbackOutcome::Linked(identity) = linked else {
            panic!("expected a link")
        };
        assert_eq!(identity.user_id, ann.user.id);
        // The same identity cannot go to a second account.
        h.registered("bob@example.org", None).await;
        let bob = h.principal("bob@example.org").await;
        assert!(matches!(
            sign_in(&h, "s-9", "other@idp.test", false, Some(&bob)).await,
            Err(OAuthFlowError::IdentityTaken)
        ));
        // Ann has a password: her only identity may go.
        h.app.unlink_identity(&ann, identity.id.0).await.unwrap();
        assert!(h.app.identities(&ann).await.unwrap().is_empty());
        assert!(matches!(
            h.app.unlink_identity(&ann, identity.id.0).await,
            Err(UnlinkError::NotFound)
        ));
    }

    #[tokio::test]
    async fn starting_counts_against_the_login_limit() {
        let h = Harness::new();
        let ip = Some(std::net::IpAddr::from([192, 0, 2, 7]));
        let limit = crate::identity::RateLimits::default().login_ip.count;
        for _ in 0..limit {
            h.app
                .oauth_start("idp", FlowResponse::Json, ip)
                .await
                .unwrap();
        }
        assert!(matches!(
            h.app.oauth_start("idp", FlowResponse::Json, ip).await,
            Err(OAuthStartError::RateLimited(_))
        ));
    }

    #[tokio::test]
    async fn whoever_claimed_an_unvouched_address_loses_it_when_its_owner_resets() {
        use accueil_domain::notify::MailTemplate;
        let h = Harness::new();
        // Someone signs up through a provider that does not vouch for the address.
        let (_, new) = signed_in(
            sign_in(&h, "squatter", "victim@example.org", false, None)
                .await
                .unwrap(),
        );
        assert!(new);
        // The address's owner resets the password of "their" account.
        h.app
            .forgot_password(crate::testing::email("victim@example.org"), None)
            .await
            .unwrap();
        let mail = h.last_mail(MailTemplate::PasswordReset).await;
        let token = mail.mail.vars["link"]
            .split("token=")
            .nth(1)
            .unwrap()
            .to_owned();
        h.app
            .reset_password(&token, "a long new passphrase")
            .await
            .unwrap();
        // The squatter's provider identity no longer leads to the account.
        assert!(matches!(
            sign_in(&h, "squatter", "victim@example.org", false, None).await,
            Err(OAuthFlowError::SignInToLink)
        ));
    }

    #[tokio::test]
    async fn an_account_without_password_confirms_with_a_fresh_sign_in() {
        let h = Harness::new();
        let (tokens, _) = signed_in(
            sign_in(&h, "s-7", "solo@idp.test", true, None)
                .await
                .unwrap(),
        );
        let who = h.signed_in(&tokens).await;
        h.advance(chrono::Duration::minutes(11));
        assert!(matches!(
            h.app.delete_account(&who, "").await,
            Err(crate::identity::DeleteAccountError::ReauthenticationRequired(r))
                if r.providers == ["idp"]
        ));
        let (tokens, _) = signed_in(
            sign_in(&h, "s-7", "solo@idp.test", true, None)
                .await
                .unwrap(),
        );
        let fresh = h.signed_in(&tokens).await;
        h.app.delete_account(&fresh, "").await.unwrap();
        // Its identities went with it: the same provider account starts afresh.
        let (_, new) = signed_in(
            sign_in(&h, "s-7", "solo@idp.test", true, None)
                .await
                .unwrap(),
        );
        assert!(new);
    }

    #[tokio::test]
    async fn oauth_only_mode_refuses_every_password_use_case() {
        let h = Harness::new();
        h.registered("ann@example.org", None).await;
        let app = h.with_settings(crate::identity::IdentitySettings {
            password_auth: false,
            ..Default::default()
        });
        assert!(matches!(
            app.login("ann@example.org", Harness::PASSWORD, None).await,
            Err(crate::identity::LoginError::PasswordAuthDisabled(_))
        ));
        assert!(matches!(
            app.forgot_password(crate::testing::email("ann@example.org"), None)
                .await,
            Err(crate::identity::ForgotPasswordError::PasswordAuthDisabled(
                _
            ))
        ));
    }

    #[tokio::test]
    async fn a_link_needs_the_session_that_started_it_to_be_live() {
        let h = Harness::new();
        h.registered("ann@example.org", None).await;
        let ann = h.principal("ann@example.org").await;
        let started = h
            .app
            .oauth_start_link("idp", FlowResponse::Json, &ann, None)
            .await
            .unwrap();
        h.app.logout_all(&ann).await.unwrap();
        let (code, state) = idp_code(&started.authorization_url, "s-8", "x@idp.test", true);
        let (_, outcome) = h
            .app
            .oauth_callback(
                "idp",
                ProviderCallback {
                    code: Some(code),
                    state: Some(state),
                    error: None,
                    binding: Some(started.binding),
                },
            )
            .await
            .unwrap();
        assert!(matches!(outcome, Err(OAuthFlowError::InvalidState)));
        let again = h.principal("ann@example.org").await;
        assert!(h.app.identities(&again).await.unwrap().is_empty());
    }
}
