//! Test harness for every module's use cases: the whole application over the in-memory store,
//! simple fakes for the crypto, media and provider ports, and a clock the test moves by hand.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use accueil_domain::identity::{
    Password, PasswordHash, Role, SessionId, TokenDigest, User, UserId,
};
use accueil_ports::StoreExt;
use accueil_ports::system::{
    AccessClaims, AccessTokenError, AccessTokens, Clock, HashError, IdGenerator, OpaqueToken,
    OpaqueTokens, PasswordHasher, SignedAccessToken,
};
use accueil_store_memory::MemoryStore;
use async_trait::async_trait;
use chrono::{DateTime, Duration, TimeZone, Utc};
use uuid::Uuid;

use accueil_domain::notify::{MailTemplate, OutboundMail, OutboxEntry};
use accueil_ports::notify::{Mailer, SendError};

use crate::Ports;
use crate::identity::{Caller, IdentityService, IdentitySettings, TokenPair};

/// A clock that moves only when told.
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

struct Ids(Mutex<u128>);
impl IdGenerator for Ids {
    fn new_id(&self) -> Uuid {
        let mut n = self.0.lock().unwrap();
        *n += 1;
        Uuid::from_u128(*n)
    }
}

/// An image "processor" that keeps the upload as the original and makes tiny renditions,
/// refusing what does not start with a known signature.
pub struct FakeImages;

#[async_trait]
impl accueil_ports::media::ImageProcessor for FakeImages {
    async fn process(
        &self,
        format: accueil_domain::memories::ImageFormat,
        bytes: Vec<u8>,
    ) -> Result<accueil_ports::media::ProcessedImage, accueil_ports::media::ImageError> {
        use accueil_domain::memories::{ImageFormat, Rendition};
        use accueil_ports::media::{EncodedImage, ImageError, ProcessedImage};
        if ImageFormat::sniff(&bytes) != Some(format) {
            return Err(ImageError::Unsupported);
        }
        let encoded = |bytes: Vec<u8>, format, edge| EncodedImage {
            rendition: Rendition {
                format,
                width: edge,
                height: edge,
                bytes: bytes.len() as u64,
            },
            bytes,
        };
        Ok(ProcessedImage {
            original: encoded(bytes, format, 2000),
            medium: encoded(b"medium".to_vec(), ImageFormat::Jpeg, 1280),
            thumb: encoded(b"thumb".to_vec(), ImageFormat::Jpeg, 320),
        })
    }
}

/// A provider that remembers each authorization request by state. Its codes are
/// `state|subject|email|verified`; the exchange checks the PKCE verifier and nonce of that
/// state's request, as a real provider and ID token would.
#[derive(Default)]
pub struct FakeIdp(Mutex<std::collections::HashMap<String, (String, String)>>);

/// A code for the fake provider.
pub fn idp_code(
    authorization_url: &str,
    subject: &str,
    email: &str,
    verified: bool,
) -> (String, String) {
    let state = authorization_url
        .split("state=")
        .nth(1)
        .and_then(|s| s.split('&').next())
        .unwrap()
        .to_owned();
    (format!("{state}|{subject}|{email}|{verified}"), state)
}

#[async_trait]
impl accueil_ports::identity::oauth::OAuthProvider for FakeIdp {
    async fn authorization_url(
        &self,
        request: accueil_ports::identity::oauth::AuthorizationRequest<'_>,
    ) -> Result<String, accueil_ports::identity::oauth::OAuthError> {
        self.0.lock().unwrap().insert(
            request.state.to_owned(),
            (request.pkce_verifier.to_owned(), request.nonce.to_owned()),
        );
        Ok(format!(
            "https://idp.test/authorize?state={}",
            request.state
        ))
    }

    async fn exchange(
        &self,
        code: &str,
        pkce_verifier: &str,
        nonce: &str,
    ) -> Result<
        accueil_ports::identity::oauth::ExternalProfile,
        accueil_ports::identity::oauth::OAuthError,
    > {
        use accueil_ports::identity::oauth::{ExternalProfile, OAuthError};
        let parts: Vec<&str> = code.split('|').collect();
        let Some((verifier, expected_nonce)) = self.0.lock().unwrap().remove(parts[0]) else {
            return Err(OAuthError::CodeRejected("unknown code".into()));
        };
        if verifier != pkce_verifier {
            return Err(OAuthError::CodeRejected("PKCE verifier mismatch".into()));
        }
        if expected_nonce != nonce {
            return Err(OAuthError::InvalidIdToken("nonce".into()));
        }
        Ok(ExternalProfile {
            subject: parts[1].to_owned(),
            email: (!parts[2].is_empty()).then(|| parts[2].to_owned()),
            email_verified: parts[3] == "true",
            name: None,
            picture: None,
        })
    }
}

/// A transparent "hasher" that counts its calls.
#[derive(Default)]
pub struct FakeHasher(AtomicUsize);

#[async_trait]
impl PasswordHasher for FakeHasher {
    async fn hash(&self, p: &Password) -> Result<PasswordHash, HashError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(PasswordHash::new(format!("fake:{}", p.expose())))
    }
    fn needs_rehash(&self, h: &PasswordHash) -> bool {
        !h.as_str().starts_with("fake:")
    }

    async fn verify<'a>(
        &self,
        p: &Password,
        h: Option<&'a PasswordHash>,
    ) -> Result<bool, HashError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(h.is_some_and(|h| h.as_str() == format!("fake:{}", p.expose())))
    }
}

/// Access tokens as readable strings: `user|session|roles|iat|exp`.
/// Signs links with a readable "tag" (the purpose and message): enough to tell a changed
/// link from its original, which is all the use cases rely on.
struct FakeLinks;

impl accueil_ports::system::LinkSigner for FakeLinks {
    fn sign(&self, purpose: &str, message: &[u8]) -> String {
        format!("{purpose}#{}", String::from_utf8_lossy(message))
    }

    fn verify(&self, purpose: &str, message: &[u8], tag: &str) -> bool {
        self.sign(purpose, message) == tag
    }
}

struct FakeAccess;
impl AccessTokens for FakeAccess {
    fn issue(
        &self,
        u: UserId,
        s: SessionId,
        roles: &[Role],
        now: DateTime<Utc>,
    ) -> Result<SignedAccessToken, AccessTokenError> {
        let exp = now + Duration::minutes(15);
        let roles: Vec<_> = roles.iter().map(|r| r.as_str()).collect();
        Ok(SignedAccessToken {
            token: format!(
                "{u}|{s}|{}|{}|{}",
                roles.join(","),
                now.timestamp(),
                exp.timestamp()
            ),
            expires_at: exp,
        })
    }
    fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<AccessClaims, AccessTokenError> {
        let p: Vec<&str> = token.split('|').collect();
        let [u, s, roles, iat, exp] = p.as_slice() else {
            return Err(AccessTokenError::Invalid);
        };
        let ts = |v: &str| DateTime::from_timestamp(v.parse().unwrap(), 0).unwrap();
        let expires_at = ts(exp);
        if now >= expires_at {
            return Err(AccessTokenError::Expired);
        }
        Ok(AccessClaims {
            user_id: UserId(u.parse().unwrap()),
            session_id: SessionId(s.parse().unwrap()),
            roles: roles.split(',').filter_map(Role::parse).collect(),
            issued_at: ts(iat),
            expires_at,
        })
    }
}

struct CountingTokens(AtomicUsize);
impl OpaqueTokens for CountingTokens {
    fn generate(&self) -> OpaqueToken {
        let n = self.0.fetch_add(1, Ordering::SeqCst);
        let secret = format!("refresh-{n}");
        OpaqueToken {
            digest: self.digest(&secret),
            secret,
        }
    }
    fn digest(&self, secret: &str) -> TokenDigest {
        TokenDigest(format!("digest({secret})"))
    }
    fn numeric_code(&self, digits: u32) -> String {
        let n = self.0.fetch_add(1, Ordering::SeqCst) as u64;
        format!(
            "{:0width$}",
            (n * 7919 + 100_003) % 10_u64.pow(digits),
            width = digits as usize
        )
    }
}

/// A mailer that keeps what it is given (the outbox worker's tests use their own).
#[derive(Default)]
pub struct KeptMail(pub Mutex<Vec<(Uuid, OutboundMail)>>);

#[async_trait]
impl Mailer for KeptMail {
    async fn send(&self, id: Uuid, mail: &OutboundMail) -> Result<(), SendError> {
        self.0.lock().unwrap().push((id, mail.clone()));
        Ok(())
    }
    fn describe(&self) -> String {
        "kept in memory".into()
    }
}

/// A signed-in user: what a request would present ([`Caller`], which use cases take; `&user`
/// coerces to it) and the account as it was when signed in.
#[derive(Debug, Clone)]
pub struct TestUser {
    /// What the requests of this user present.
    pub caller: Caller,
    /// The account.
    pub user: User,
}

impl std::ops::Deref for TestUser {
    type Target = Caller;

    fn deref(&self) -> &Caller {
        &self.caller
    }
}

/// A bus that keeps what was published (subscriptions are not needed by use-case tests).
#[derive(Default)]
pub struct RecordingBus(Mutex<Vec<accueil_domain::events::Event>>);

impl RecordingBus {
    /// What was published since the last call.
    pub fn take(&self) -> Vec<accueil_domain::events::Event> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

impl accueil_ports::events::EventBus for RecordingBus {
    fn publish(&self, events: Vec<accueil_domain::events::Event>) {
        self.0.lock().unwrap().extend(events);
    }
    fn subscribe(&self) -> Box<dyn accueil_ports::events::Subscription> {
        unreachable!("use-case tests do not subscribe")
    }
    fn health(&self) -> Result<(), String> {
        Ok(())
    }
    fn stats(&self) -> accueil_ports::events::BusStats {
        accueil_ports::events::BusStats::default()
    }
}

/// The whole application over memory and fakes, with handles to steer and inspect them.
pub struct Harness {
    pub app: IdentityService,
    /// Every event published by a committed unit of work, in order.
    pub events: Arc<RecordingBus>,
    pub whole: crate::App,
    pub store: MemoryStore,
    pub files: accueil_store_memory::MemoryFileStore,
    pub clock: Arc<ManualClock>,
    hasher: Arc<FakeHasher>,
    ports: Ports,
}

impl Harness {
    pub const PASSWORD: &'static str = "correct horse battery";

    pub fn new() -> Self {
        let store = MemoryStore::new();
        let clock = Arc::new(ManualClock(Mutex::new(
            Utc.with_ymd_and_hms(2026, 11, 22, 9, 30, 0).unwrap(),
        )));
        let hasher = Arc::new(FakeHasher::default());
        let files = accueil_store_memory::MemoryFileStore::new();
        let events = Arc::new(RecordingBus::default());
        let ports = Ports {
            events: events.clone(),
            store: Arc::new(store.clone()),
            clock: clock.clone(),
            ids: Arc::new(Ids(Mutex::new(0))),
            hasher: hasher.clone(),
            access_tokens: Arc::new(FakeAccess),
            opaque_tokens: Arc::new(CountingTokens(AtomicUsize::new(0))),
            mailer: Arc::new(KeptMail::default()),
            limiter: Arc::new(accueil_store_memory::MemoryRateLimiter::new()),
            files: Arc::new(files.clone()),
            images: Arc::new(FakeImages),
            links: Arc::new(FakeLinks),
            oauth: accueil_ports::identity::oauth::OAuthProviders::none()
                .with("idp", Arc::new(FakeIdp::default())),
        };
        let whole = Self::app_of(ports.clone(), IdentitySettings::default());
        Self {
            app: whole.identity.clone(),
            events,
            whole,
            store,
            files,
            clock,
            hasher,
            ports,
        }
    }

    fn app_of(ports: Ports, settings: IdentitySettings) -> crate::App {
        crate::App::new(
            ports,
            settings,
            crate::couples::CouplesSettings::default(),
            crate::memories::MemoriesSettings::default(),
        )
    }

    /// The same service with another hasher (a mockall mock, typically).
    pub fn with_hasher(&self, hasher: Arc<dyn PasswordHasher>) -> IdentityService {
        let mut ports = self.ports.clone();
        ports.hasher = hasher;
        Self::app_of(ports, IdentitySettings::default()).identity
    }

    /// The same store and fakes with other settings.
    pub fn with_settings(&self, settings: IdentitySettings) -> IdentityService {
        Self::app_of(self.ports.clone(), settings).identity
    }

    /// The couples service over the same ports.
    pub fn couples(&self) -> crate::couples::CouplesService {
        self.whole.couples.clone()
    }

    /// The administration service over the same ports.
    pub fn admin(&self) -> crate::admin::AdminService {
        self.whole.admin.clone()
    }

    /// Registers two users and pairs them; returns partner A and partner B.
    pub async fn paired(&self, a: &str, b: &str) -> (TestUser, TestUser) {
        self.registered(a, None).await;
        self.registered(b, None).await;
        let (a, b) = (self.principal(a).await, self.principal(b).await);
        let c = self.couples();
        c.create(&a).await.unwrap();
        let invite = c.invite(&a, ttl(None)).await.unwrap();
        c.join(&b, &invite.code, None).await.unwrap();
        (a, b)
    }

    /// The whole application over the same ports.
    pub fn whole_app(&self) -> crate::App {
        self.whole.clone()
    }

    /// The memories service over the same ports.
    pub fn memories(&self) -> crate::memories::MemoriesService {
        self.whole.memories.clone()
    }

    /// The ports, with another mailer.
    pub fn ports_with_mailer(&self, mailer: Arc<dyn Mailer>) -> Ports {
        let mut ports = self.ports.clone();
        ports.mailer = mailer;
        ports
    }

    pub fn hasher_calls(&self) -> usize {
        self.hasher.0.load(Ordering::SeqCst)
    }

    pub fn advance(&self, by: Duration) {
        *self.clock.0.lock().unwrap() += by;
    }

    pub async fn registered(&self, email: &str, username: Option<&str>) -> User {
        let registration = accueil_domain::identity::Registration::parse(
            email,
            Self::PASSWORD,
            username,
            None,
            None,
        )
        .unwrap();
        self.app.register(registration, None).await.unwrap()
    }

    pub async fn login(&self, login: &str) -> TokenPair {
        self.login_with(login, Self::PASSWORD).await
    }

    pub async fn login_with(&self, login: &str, password: &str) -> TokenPair {
        self.app.login(login, password, None).await.unwrap()
    }

    pub async fn user(&self, id: UserId) -> Option<User> {
        self.store
            .read(move |tx| tx.users().user_by_id(id))
            .await
            .unwrap()
    }

    pub async fn disable(&self, id: UserId) {
        let mut user = self.user(id).await.unwrap();
        user.is_active = false;
        self.store
            .write(move |tx| tx.users().update_user(&user))
            .await
            .unwrap();
    }

    /// Every outbox entry, oldest first.
    pub async fn outbox(&self) -> Vec<OutboxEntry> {
        let mut all = self
            .store
            .read(|tx| tx.outbox().list(None, 10_000))
            .await
            .unwrap();
        all.reverse();
        all
    }

    /// The newest outbox entry of this template.
    pub async fn last_mail(&self, template: MailTemplate) -> OutboxEntry {
        self.outbox()
            .await
            .into_iter()
            .rev()
            .find(|e| e.mail.template == template)
            .unwrap_or_else(|| panic!("no {template:?} mail"))
    }

    /// A fresh login, as its requests would present it.
    pub async fn principal(&self, login: &str) -> TestUser {
        let pair = self.login(login).await;
        self.signed_in(&pair).await
    }

    /// The caller of a token pair's access token.
    pub async fn signed_in(&self, pair: &TokenPair) -> TestUser {
        let caller = self.app.caller_from_bearer(&pair.access_token).unwrap();
        let user = self.app.me(&caller).await.unwrap().user;
        TestUser { caller, user }
    }

    pub async fn audit(&self, id: UserId) -> Vec<accueil_domain::admin::AuditAction> {
        self.store
            .read(move |tx| tx.audit().about(id))
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect()
    }
}

/// An invite lifetime.
pub fn ttl(minutes: Option<i64>) -> accueil_domain::couples::InviteTtl {
    accueil_domain::couples::InviteTtl::minutes(minutes).unwrap()
}

/// An address.
pub fn email(address: &str) -> accueil_domain::identity::Email {
    accueil_domain::identity::Email::parse(address).unwrap()
}
