//! Sign-in with external providers: `/api/v1/auth/{provider}/start` and `/callback`,
//! `/api/v1/auth/link-identity`, and the caller's identities under `/api/v1/users/me/identities`.
//!
//! The start sets a short-lived, HttpOnly, SameSite=Lax cookie holding the flow's binding
//! secret; the callback only completes in a browser that carries it, so a callback URL sent to
//! someone else signs nobody in (login CSRF). Browser flows end with a redirect to the app's
//! URL (`ACCUEIL_OAUTH_REDIRECT_URL`) with the result in the fragment, which never reaches a
//! server log; API clients ask for JSON with `?mode=json` (or `Accept: application/json`).

use accueil_app::StoreError;
use accueil_app::identity::{
    AuthError, CallbackOutcome, LinkToken, OAuthError, OAuthFlowError, OAuthLinkError,
    OAuthStartError, ProviderCallback, ProviderUnavailable, RateLimited, SessionRequired,
    StartLinkError, UnlinkError,
};
use accueil_domain::identity::{ExternalIdentity, FlowResponse};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::dto::TokenResponse;
use crate::auth::Auth;
use crate::client_ip::ClientIp;
use crate::error::ApiError;
use crate::problems::{Errors, INTERNAL, INVALID_QUERY, NOT_FOUND, Problems, Spec};

type App = web::Data<accueil_app::App>;

pub(super) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(oauth_start)
        .service(oauth_callback)
        .service(link_identity)
        .service(start_link)
        .service(list_identities)
        .service(unlink_identity);
}

/// Over HTTPS the cookie takes the `__Host-` prefix: browsers then accept it only when it is
/// `Secure`, for path `/` and without `Domain`, so a sibling subdomain cannot plant one.
const BINDING_COOKIE_SECURE: &str = "__Host-accueil_oauth";
const BINDING_COOKIE_PLAIN: &str = "accueil_oauth";

/// Where browser flows end, and whether cookies need `Secure`.
#[derive(Debug, Clone)]
pub(crate) struct OAuthWeb {
    /// The app's page that receives the result in its fragment.
    pub redirect_url: String,
    /// Whether the API is served over HTTPS (cookies get `Secure`).
    pub secure_cookies: bool,
}

const UNKNOWN_PROVIDER: Spec = Spec::new(
    404,
    "unknown_provider",
    "no sign-in provider of this name is configured",
);
const INVALID_STATE: Spec = Spec::new(
    400,
    "invalid_state",
    "the flow's state is missing, unknown, used or expired, or the callback is not from the browser that started it",
);
const PROVIDER_DENIED: Spec = Spec::new(
    400,
    "provider_denied",
    "the provider did not authorize (the user refused, typically)",
);
const MISSING_CODE: Spec = Spec::new(400, "missing_code", "the callback has no code");
const CODE_REJECTED: Spec = Spec::new(
    401,
    "code_rejected",
    "the provider refused the code (its PKCE verifier included)",
);
const INVALID_ID_TOKEN: Spec = Spec::new(
    401,
    "invalid_id_token",
    "the ID token failed a check: signature, issuer, audience, expiry or nonce",
);
const USERINFO_SUBJECT_MISMATCH: Spec = Spec::new(
    401,
    "userinfo_subject_mismatch",
    "the provider's UserInfo answer is about another user than its ID token (`sub` differs): nothing of it is used",
);
const PROVIDER_UNAVAILABLE: Spec = Spec::new(
    502,
    "provider_unavailable",
    "the sign-in provider did not answer as expected (its discovery document, its token endpoint)",
);
const EMAIL_MISSING: Spec = Spec::new(
    422,
    "provider_email_missing",
    "the provider shared no usable address to make an account with",
);
const LINK_REQUIRED: Spec = Spec::new(
    409,
    "link_required",
    "an account has this (verified) address: send the problem's `link_token` with that account's password to `POST /api/v1/auth/link-identity`, or sign in and link from the settings",
);
const SIGN_IN_TO_LINK: Spec = Spec::new(
    409,
    "sign_in_to_link",
    "an account has this address, which the provider does not vouch for: sign in to it, then `POST /api/v1/users/me/identities/{provider}`",
);
const IDENTITY_TAKEN: Spec = Spec::new(
    409,
    "identity_linked_elsewhere",
    "the provider identity is linked to another account",
);
const ACCOUNT_DISABLED: Spec = Spec::new(403, "account_disabled", "the account is disabled");
const EMAIL_NOT_VERIFIED: Spec = Spec::new(
    403,
    "email_not_verified",
    "the deployment requires a verified address first",
);

impl From<OAuthError> for ApiError {
    fn from(p: OAuthError) -> Self {
        match p {
            OAuthError::CodeRejected(_) => CODE_REJECTED.answer(p.to_string()),
            OAuthError::InvalidIdToken(_) => INVALID_ID_TOKEN.answer(p.to_string()),
            OAuthError::UserInfoSubjectMismatch => USERINFO_SUBJECT_MISMATCH.answer(p.to_string()),
            OAuthError::Unavailable(_) | OAuthError::Protocol(_) => provider_unavailable(&p),
        }
    }
}

/// 502, with the provider's error in the log only.
fn provider_unavailable(p: &OAuthError) -> ApiError {
    tracing::warn!(error = %p, "sign-in provider failed");
    PROVIDER_UNAVAILABLE.answer("the sign-in provider did not answer as expected; try again later")
}

impl From<ProviderUnavailable> for ApiError {
    fn from(p: ProviderUnavailable) -> Self {
        provider_unavailable(&p.0)
    }
}

impl Problems for ProviderUnavailable {
    fn specs() -> Vec<Spec> {
        vec![PROVIDER_UNAVAILABLE]
    }
}

crate::problems!(OAuthStartError {
    via Provider(ProviderUnavailable), RateLimited(RateLimited), Store(StoreError);
    UnknownProvider => UNKNOWN_PROVIDER,
});

crate::problems!(StartLinkError {
    via Auth(AuthError), SessionRequired(SessionRequired), Start(OAuthStartError);
});

impl Problems for OAuthError {
    fn specs() -> Vec<Spec> {
        vec![
            CODE_REJECTED,
            INVALID_ID_TOKEN,
            USERINFO_SUBJECT_MISMATCH,
            PROVIDER_UNAVAILABLE,
        ]
    }
}

// By hand rather than with `problems!`: `link_required` carries its link token, so the
// conversion is written out; the specs it answers with are the constants above, and a test
// checks that every variant answers with one of `specs()`.
impl From<OAuthFlowError> for ApiError {
    fn from(e: OAuthFlowError) -> Self {
        match e {
            OAuthFlowError::UnknownProvider => UNKNOWN_PROVIDER.answer(e.to_string()),
            OAuthFlowError::InvalidState => INVALID_STATE.answer(e.to_string()),
            OAuthFlowError::Denied(_) => PROVIDER_DENIED.answer(e.to_string()),
            OAuthFlowError::MissingCode => MISSING_CODE.answer(e.to_string()),
            OAuthFlowError::Provider(p) => p.into(),
            OAuthFlowError::EmailRequired => EMAIL_MISSING.answer(e.to_string()),
            OAuthFlowError::LinkRequired {
                link_token: LinkToken(link_token),
            } => LINK_REQUIRED
                .answer(
                    "an account already uses this address: send link_token with that account's \
                     password to POST /api/v1/auth/link-identity, or sign in and link the provider \
                     from your settings",
                )
                .with_link_token(link_token),
            OAuthFlowError::SignInToLink => SIGN_IN_TO_LINK.answer(
                "an account already uses this address, which the provider does not vouch for: \
                 sign in to that account, then link the provider with POST \
                 /api/v1/users/me/identities/{provider}",
            ),
            OAuthFlowError::IdentityTaken => IDENTITY_TAKEN.answer(e.to_string()),
            OAuthFlowError::AccountDisabled => ACCOUNT_DISABLED.answer(e.to_string()),
            OAuthFlowError::EmailNotVerified => EMAIL_NOT_VERIFIED.answer(e.to_string()),
            OAuthFlowError::Token(_) => INTERNAL.answer("an unexpected error occurred"),
            OAuthFlowError::Store(s) => s.into(),
        }
    }
}

impl Problems for OAuthFlowError {
    fn specs() -> Vec<Spec> {
        let mut all = OAuthError::specs();
        all.extend(StoreError::specs());
        all.extend([
            UNKNOWN_PROVIDER,
            INVALID_STATE,
            PROVIDER_DENIED,
            MISSING_CODE,
            EMAIL_MISSING,
            LINK_REQUIRED,
            SIGN_IN_TO_LINK,
            IDENTITY_TAKEN,
            ACCOUNT_DISABLED,
            EMAIL_NOT_VERIFIED,
            INTERNAL,
        ]);
        all
    }
}

crate::problems!(OAuthLinkError {
    via RateLimited(RateLimited), Store(StoreError);
    InvalidLinkToken => Spec::new(400, "invalid_link_token", "the link token is unknown, used or expired (one attempt each)"),
    WrongPassword => Spec::new(403, "wrong_password", "the password typed to confirm is not right"),
    IdentityTaken => IDENTITY_TAKEN,
    AccountDisabled => ACCOUNT_DISABLED,
    Hash(_) => INTERNAL,
    Token(_) => INTERNAL,
});

crate::problems!(UnlinkError {
    via Auth(AuthError), SessionRequired(SessionRequired), Store(StoreError);
    NotFound => NOT_FOUND,
    LastSignInMethod => Spec::new(409, "last_sign_in_method", "the identity is the account's last way to sign in"),
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_flow_error_answers_with_a_declared_problem() {
        let declared = OAuthFlowError::specs();
        let all = [
            OAuthFlowError::UnknownProvider,
            OAuthFlowError::InvalidState,
            OAuthFlowError::Denied("no".into()),
            OAuthFlowError::MissingCode,
            OAuthFlowError::Provider(OAuthError::CodeRejected("x".into())),
            OAuthFlowError::Provider(OAuthError::InvalidIdToken("x".into())),
            OAuthFlowError::Provider(OAuthError::UserInfoSubjectMismatch),
            OAuthFlowError::Provider(OAuthError::Unavailable("x".into())),
            OAuthFlowError::Provider(OAuthError::Protocol("x".into())),
            OAuthFlowError::EmailRequired,
            OAuthFlowError::LinkRequired {
                link_token: LinkToken("t".into()),
            },
            OAuthFlowError::SignInToLink,
            OAuthFlowError::IdentityTaken,
            OAuthFlowError::AccountDisabled,
            OAuthFlowError::EmailNotVerified,
            OAuthFlowError::Store(StoreError::Unavailable("down".into())),
        ];
        for e in all {
            let shown = format!("{e:?}");
            let reason = e.reason();
            let answer = ApiError::from(e);
            if answer.status().as_u16() < 500 {
                assert_eq!(
                    reason,
                    answer.code(),
                    "{shown}: the log's reason is the answer's code"
                );
            }
            assert!(
                declared
                    .iter()
                    .any(|s| s.code == answer.code() && s.status == answer.status().as_u16()),
                "{shown} answers {} {}, which OAuthFlowError::specs() does not declare",
                answer.status(),
                answer.code()
            );
        }
    }
}

/// How the flow should end.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StartParams {
    /// `redirect` (browsers: the callback redirects to the app) or `json` (the start answers
    /// `{authorization_url}` and the callback answers JSON). Default: `json` when the request
    /// accepts `application/json` only, else `redirect`.
    #[param(format = "enum:redirect,json")]
    pub mode: Option<String>,
}

fn response_mode(req: &HttpRequest, mode: Option<&str>) -> Result<FlowResponse, ApiError> {
    match mode {
        Some("json") => Ok(FlowResponse::Json),
        Some("redirect") => Ok(FlowResponse::Redirect),
        Some(_) => Err(INVALID_QUERY.answer("mode is redirect or json")),
        None => {
            let accept = req
                .headers()
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            Ok(if accept.trim() == "application/json" {
                FlowResponse::Json
            } else {
                FlowResponse::Redirect
            })
        }
    }
}

/// Where to send the browser.
#[derive(Serialize, ToSchema)]
pub struct AuthorizationBody {
    /// The provider's authorization URL, with state, nonce and PKCE challenge.
    pub authorization_url: String,
}

fn binding_cookie(web: &OAuthWeb, value: &str, max_age: u32) -> String {
    if web.secure_cookies {
        format!(
            "{BINDING_COOKIE_SECURE}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax; Secure"
        )
    } else {
        format!(
            "{BINDING_COOKIE_PLAIN}={value}; Path=/api/v1/auth/; Max-Age={max_age}; HttpOnly; SameSite=Lax"
        )
    }
}

fn started(
    web: &OAuthWeb,
    flow: accueil_app::identity::StartedFlow,
    response: FlowResponse,
) -> HttpResponse {
    let mut res = match response {
        FlowResponse::Redirect => {
            let mut r = HttpResponse::Found();
            r.insert_header((header::LOCATION, flow.authorization_url.clone()));
            r
        }
        FlowResponse::Json => HttpResponse::Ok(),
    };
    res.insert_header((header::SET_COOKIE, binding_cookie(web, &flow.binding, 600)))
        .insert_header((header::CACHE_CONTROL, "no-store"));
    match response {
        FlowResponse::Redirect => res.finish(),
        FlowResponse::Json => res.json(AuthorizationBody {
            authorization_url: flow.authorization_url,
        }),
    }
}

fn web_settings(req: &HttpRequest) -> OAuthWeb {
    req.app_data::<OAuthWeb>().cloned().unwrap_or(OAuthWeb {
        redirect_url: "/".into(),
        secure_cookies: true,
    })
}

/// Start signing in with a provider: 302 to its authorization page (or 200 with the URL when
/// `mode=json`), with `state`, `nonce` and a PKCE S256 challenge. Sets the flow's binding
/// cookie: finish the flow in the same browser, within ten minutes.
#[utoipa::path(tag = "auth", params(("provider" = String, Path, description = "`google`, `facebook` or another configured name"), StartParams), responses(
    (status = 200, description = "`mode=json`: where to send the browser", body = AuthorizationBody),
    (status = 302, description = "Redirect to the provider"),
    Errors<OAuthStartError>,


))]
#[get("/auth/{provider}/start")]
async fn oauth_start(
    app: App,
    provider: web::Path<String>,
    params: web::Query<StartParams>,
    ip: ClientIp,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let response = response_mode(&req, params.mode.as_deref())?;
    let flow = app.identity.oauth_start(&provider, response, ip.0).await?;
    Ok(started(&web_settings(&req), flow, response))
}

/// What the provider sends back.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallbackParams {
    /// The authorization code.
    pub code: Option<String>,
    /// The state from the start.
    pub state: Option<String>,
    /// Set when the user refused or the provider failed.
    pub error: Option<String>,
    /// The provider's explanation of `error`.
    pub error_description: Option<String>,
}

fn cookie_value(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// Only unreserved characters pass; the rest is percent-encoded.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn fragment(pairs: &[(&str, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A linked identity.
#[derive(Serialize, ToSchema)]
pub struct IdentityBody {
    /// Its id (to unlink it).
    pub id: Uuid,
    /// The provider's name.
    pub provider: String,
    /// The address the provider gave when it was linked.
    pub email: Option<String>,
    /// When it was linked.
    pub created_at: DateTime<Utc>,
    /// When it last signed in.
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<&ExternalIdentity> for IdentityBody {
    fn from(i: &ExternalIdentity) -> Self {
        Self {
            id: i.id.0,
            provider: i.provider.as_str().to_owned(),
            email: i.email.clone(),
            created_at: i.created_at,
            last_used_at: i.last_used_at,
        }
    }
}

/// The provider's callback. JSON flows answer the tokens (or the linked identity); browser
/// flows redirect to the app's URL with `#access_token=..&refresh_token=..&token_type=Bearer&
/// expires_in=..&new_account=..`, `#linked=<provider>` or `#error=<code>[&link_token=..]`.
#[utoipa::path(tag = "auth", params(("provider" = String, Path), CallbackParams), responses(
    (status = 200, description = "JSON flows: signed in", body = TokenResponse),
    (status = 302, description = "Browser flows: back to the app, the result in the fragment"),
    Errors<OAuthFlowError>,






))]
#[get("/auth/{provider}/callback")]
async fn oauth_callback(
    app: App,
    provider: web::Path<String>,
    params: web::Query<CallbackParams>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let web = web_settings(&req);
    let p = params.into_inner();
    let (response, outcome) = app
        .identity
        .oauth_callback(
            &provider,
            ProviderCallback {
                code: p.code,
                state: p.state,
                error: p.error.map(|e| match p.error_description {
                    Some(d) => format!("{e}: {}", d.chars().take(200).collect::<String>()),
                    None => e,
                }),
                binding: cookie_value(
                    &req,
                    if web.secure_cookies {
                        BINDING_COOKIE_SECURE
                    } else {
                        BINDING_COOKIE_PLAIN
                    },
                ),
            },
        )
        .await?;
    let clear = binding_cookie(&web, "", 0);
    match (response, outcome) {
        (FlowResponse::Json, Ok(CallbackOutcome::SignedIn { tokens, .. })) => {
            Ok(HttpResponse::Ok()
                .insert_header((header::SET_COOKIE, clear))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .json(TokenResponse::from(tokens)))
        }
        (FlowResponse::Json, Ok(CallbackOutcome::Linked(identity))) => Ok(HttpResponse::Ok()
            .insert_header((header::SET_COOKIE, clear))
            .json(IdentityBody::from(&identity))),
        (FlowResponse::Json, Err(e)) => Err(e.into()),
        (FlowResponse::Redirect, outcome) => {
            let fragment = match outcome {
                Ok(CallbackOutcome::SignedIn {
                    tokens,
                    new_account,
                }) => fragment(&[
                    ("access_token", tokens.access_token.clone()),
                    ("refresh_token", tokens.refresh_token.clone()),
                    ("token_type", "Bearer".into()),
                    ("expires_in", tokens.expires_in.to_string()),
                    ("new_account", new_account.to_string()),
                ]),
                Ok(CallbackOutcome::Linked(identity)) => {
                    fragment(&[("linked", identity.provider.as_str().to_owned())])
                }
                Err(e) => {
                    let link_token = match &e {
                        OAuthFlowError::LinkRequired { link_token } => Some(link_token.0.clone()),
                        _ => None,
                    };
                    let problem = ApiError::from(e);
                    let mut pairs = vec![("error", problem.code().to_owned())];
                    if let Some(t) = link_token {
                        pairs.push(("link_token", t));
                    }
                    fragment(&pairs)
                }
            };
            Ok(HttpResponse::Found()
                .insert_header((header::SET_COOKIE, clear))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .insert_header((header::LOCATION, format!("{}#{fragment}", web.redirect_url)))
                .finish())
        }
    }
}

/// Proof of the existing account for a `link_required` sign-in.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkIdentityRequest {
    /// From the `link_required` problem.
    pub link_token: String,
    /// The existing account's password.
    pub password: String,
}

/// Link the provider identity of a `link_required` sign-in to the existing account with the
/// same address, proving the account with its password; signs in. The link token allows one
/// attempt.
#[utoipa::path(tag = "auth", request_body = LinkIdentityRequest, responses(
    (status = 200, description = "Linked and signed in", body = TokenResponse),
    Errors<OAuthLinkError>,



))]
#[post("/auth/link-identity")]
async fn link_identity(
    app: App,
    body: web::Json<LinkIdentityRequest>,
) -> Result<HttpResponse, ApiError> {
    let tokens = app
        .identity
        .oauth_link(&body.link_token, &body.password)
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(TokenResponse::from(tokens)))
}

/// Start linking a provider to the caller's account (a signed-in session). Answers like
/// `/api/v1/auth/{provider}/start`; the callback then links instead of signing in.
#[utoipa::path(tag = "users", security(("bearer" = [])), params(("identity" = String, Path, description = "The provider to link: `google`, `facebook` or another configured name"), StartParams), responses(
    (status = 200, description = "`mode=json` (the default here): where to send the browser", body = AuthorizationBody),
    (status = 302, description = "`mode=redirect`: to the provider"),
    Errors<StartLinkError>,

))]
// One path with `DELETE /users/me/identities/{identity}` (an identity's id there): OpenAPI
// takes two templates that differ only in a parameter's name for the same path.
#[post("/users/me/identities/{identity}")]
async fn start_link(
    app: App,
    auth: Auth,
    provider: web::Path<String>,
    params: web::Query<StartParams>,
    ip: ClientIp,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let response = match params.mode.as_deref() {
        None => FlowResponse::Json,
        mode => response_mode(&req, mode)?,
    };
    let flow = app
        .identity
        .oauth_start_link(&provider, response, &auth.0, ip.0)
        .await?;
    Ok(started(&web_settings(&req), flow, response))
}

/// The caller's linked identities.
#[utoipa::path(tag = "users", security(("bearer" = [])), responses(
    (status = 200, description = "Oldest first", body = [IdentityBody]),
    Errors<AuthError>,
))]
#[get("/users/me/identities")]
async fn list_identities(app: App, auth: Auth) -> Result<HttpResponse, ApiError> {
    let all = app.identity.identities(&auth.0).await?;
    Ok(HttpResponse::Ok().json(all.iter().map(IdentityBody::from).collect::<Vec<_>>()))
}

/// Unlink an identity, unless it is the account's last way to sign in.
#[utoipa::path(tag = "users", security(("bearer" = [])), params(("identity" = Uuid, Path, description = "The identity's id (from `GET /api/v1/users/me/identities`)")), responses(
    (status = 204, description = "Unlinked"),
    Errors<UnlinkError>,


))]
#[delete("/users/me/identities/{identity}")]
async fn unlink_identity(
    app: App,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    app.identity
        .unlink_identity(&auth.0, id.into_inner())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
