//! Sign-in with external providers: `/api/v1/auth/{provider}/start` and `/callback`,
//! `/api/v1/auth/link-identity`, and the caller's identities under `/api/v1/users/me/identities`.
//!
//! The start sets a short-lived, HttpOnly, SameSite=Lax cookie holding the flow's binding
//! secret; the callback only completes in a browser that carries it, so a callback URL sent to
//! someone else signs nobody in (login CSRF). Browser flows end with a redirect to the app's
//! URL (`ACCUEIL_OAUTH_REDIRECT_URL`) with the result in the fragment, which never reaches a
//! server log; API clients ask for JSON with `?mode=json` (or `Accept: application/json`).

use accueil_app::identity::{
    CallbackInput, CallbackOutcome, LinkInput, LinkToken, OAuthError, OAuthFlowError,
    OAuthLinkError, UnlinkError,
};
use accueil_domain::identity::{ExternalIdentity, FlowResponse};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::dto::TokenResponse;
use crate::auth::Auth;
use crate::client_ip::ClientIp;
use crate::error::{ApiError, ProblemBody};

type App = web::Data<accueil_app::App>;

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

impl From<OAuthFlowError> for ApiError {
    fn from(e: OAuthFlowError) -> Self {
        let bad_request = |code, detail: String| {
            ApiError::new(StatusCode::BAD_REQUEST, code, "Bad request", detail)
        };
        match e {
            OAuthFlowError::UnknownProvider => ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_provider",
                "Not found",
                "no sign-in provider of this name is configured",
            ),
            OAuthFlowError::SessionRequired(s) => s.into(),
            e @ OAuthFlowError::InvalidState => bad_request("invalid_state", e.to_string()),
            e @ OAuthFlowError::Denied(_) => bad_request("provider_denied", e.to_string()),
            e @ OAuthFlowError::MissingCode => bad_request("missing_code", e.to_string()),
            OAuthFlowError::Provider(p) => match p {
                OAuthError::CodeRejected(_) => {
                    ApiError::unauthorized("code_rejected", p.to_string())
                }
                OAuthError::InvalidIdToken(_) => {
                    ApiError::unauthorized("invalid_id_token", p.to_string())
                }
                OAuthError::Unavailable(_) | OAuthError::Protocol(_) => {
                    tracing::warn!(error = %p, "sign-in provider failed");
                    ApiError::new(
                        StatusCode::BAD_GATEWAY,
                        "provider_unavailable",
                        "Bad gateway",
                        "the sign-in provider did not answer as expected; try again later",
                    )
                }
            },
            e @ OAuthFlowError::EmailRequired => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "provider_email_missing",
                "Unprocessable",
                e.to_string(),
            ),
            OAuthFlowError::LinkRequired {
                link_token: LinkToken(link_token),
            } => ApiError::conflict(
                "link_required",
                "an account already uses this address: send link_token with that account's \
                 password to POST /api/v1/auth/link-identity, or sign in and link the provider \
                 from your settings",
            )
            .with_link_token(link_token),
            OAuthFlowError::SignInToLink => ApiError::conflict(
                "sign_in_to_link",
                "an account already uses this address, which the provider does not vouch for: \
                 sign in to that account, then link the provider with POST \
                 /api/v1/users/me/identities/{provider}",
            ),
            e @ OAuthFlowError::IdentityTaken => {
                ApiError::conflict("identity_linked_elsewhere", e.to_string())
            }
            OAuthFlowError::AccountDisabled => {
                ApiError::forbidden("account_disabled", "this account is disabled")
            }
            OAuthFlowError::RateLimited(r) => ApiError::rate_limited(r.retry_after),
            OAuthFlowError::EmailNotVerified => ApiError::forbidden(
                "email_not_verified",
                "verify your e-mail address first (POST /api/v1/auth/resend-verification)",
            ),
            OAuthFlowError::Token(e) => ApiError::internal(&e),
            OAuthFlowError::Store(e) => ApiError::store(&e),
        }
    }
}

impl From<OAuthLinkError> for ApiError {
    fn from(e: OAuthLinkError) -> Self {
        match e {
            e @ OAuthLinkError::InvalidLinkToken => ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_link_token",
                "Bad request",
                e.to_string(),
            ),
            OAuthLinkError::WrongPassword => {
                ApiError::forbidden("wrong_password", "the password is not right")
            }
            OAuthLinkError::RateLimited(r) => ApiError::rate_limited(r.retry_after),
            e @ OAuthLinkError::IdentityTaken => {
                ApiError::conflict("identity_linked_elsewhere", e.to_string())
            }
            OAuthLinkError::AccountDisabled => {
                ApiError::forbidden("account_disabled", "this account is disabled")
            }
            OAuthLinkError::Hash(e) => ApiError::internal(&e),
            OAuthLinkError::Token(e) => ApiError::internal(&e),
            OAuthLinkError::Store(e) => ApiError::store(&e),
        }
    }
}

impl From<UnlinkError> for ApiError {
    fn from(e: UnlinkError) -> Self {
        match e {
            UnlinkError::SessionRequired(s) => s.into(),
            UnlinkError::NotFound => ApiError::not_found("no such identity of yours"),
            e @ UnlinkError::LastSignInMethod => {
                ApiError::conflict("last_sign_in_method", e.to_string())
            }
            UnlinkError::Store(e) => ApiError::store(&e),
        }
    }
}

/// How the flow should end.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StartParams {
    /// `redirect` (browsers: the callback redirects to the app) or `json` (the start answers
    /// `{authorization_url}` and the callback answers JSON). Default: `json` when the request
    /// accepts `application/json` only, else `redirect`.
    pub mode: Option<String>,
}

fn response_mode(req: &HttpRequest, mode: Option<&str>) -> Result<FlowResponse, ApiError> {
    match mode {
        Some("json") => Ok(FlowResponse::Json),
        Some("redirect") => Ok(FlowResponse::Redirect),
        Some(_) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            "Bad request",
            "mode is redirect or json",
        )),
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
    (status = 404, description = "`unknown_provider`", body = ProblemBody, content_type = "application/problem+json"),
    (status = 429, description = "`rate_limited` (per client, with logins)", body = ProblemBody, content_type = "application/problem+json"),
    (status = 502, description = "`provider_unavailable` (discovery failed)", body = ProblemBody, content_type = "application/problem+json"),
))]
#[get("/auth/{provider}/start")]
pub(super) async fn oauth_start(
    app: App,
    provider: web::Path<String>,
    params: web::Query<StartParams>,
    ip: ClientIp,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let response = response_mode(&req, params.mode.as_deref())?;
    let flow = app
        .identity
        .oauth_start(&provider, response, None, ip.0)
        .await?;
    Ok(started(&web_settings(&req), flow, response))
}

/// What the provider sends back.
#[derive(Deserialize, IntoParams)]
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
    (status = 400, description = "`invalid_state` (missing, unknown, used or expired, or another browser), `provider_denied`, `missing_code`", body = ProblemBody, content_type = "application/problem+json"),
    (status = 401, description = "`code_rejected`, `invalid_id_token`", body = ProblemBody, content_type = "application/problem+json"),
    (status = 403, description = "`account_disabled`", body = ProblemBody, content_type = "application/problem+json"),
    (status = 404, description = "`unknown_provider`", body = ProblemBody, content_type = "application/problem+json"),
    (status = 409, description = "`link_required` (with `link_token`), `sign_in_to_link`, `identity_linked_elsewhere`", body = ProblemBody, content_type = "application/problem+json"),
    (status = 422, description = "`provider_email_missing`", body = ProblemBody, content_type = "application/problem+json"),
    (status = 502, description = "`provider_unavailable`", body = ProblemBody, content_type = "application/problem+json"),
))]
#[get("/auth/{provider}/callback")]
pub(super) async fn oauth_callback(
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
            CallbackInput {
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
    (status = 400, description = "`invalid_link_token`", body = ProblemBody, content_type = "application/problem+json"),
    (status = 403, description = "`wrong_password`, `account_disabled`", body = ProblemBody, content_type = "application/problem+json"),
    (status = 409, description = "`identity_linked_elsewhere`", body = ProblemBody, content_type = "application/problem+json"),
    (status = 429, description = "`rate_limited`", body = ProblemBody, content_type = "application/problem+json"),
))]
#[post("/auth/link-identity")]
pub(super) async fn link_identity(
    app: App,
    body: web::Json<LinkIdentityRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let tokens = app
        .identity
        .oauth_link(LinkInput {
            link_token: b.link_token,
            password: b.password,
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(TokenResponse::from(tokens)))
}

/// Start linking a provider to the caller's account (a signed-in session). Answers like
/// `/api/v1/auth/{provider}/start`; the callback then links instead of signing in.
#[utoipa::path(tag = "users", security(("bearer" = [])), params(("provider" = String, Path), StartParams), responses(
    (status = 200, description = "`mode=json` (the default here): where to send the browser", body = AuthorizationBody),
    (status = 302, description = "`mode=redirect`: to the provider"),
    (status = 403, description = "`session_required`", body = ProblemBody, content_type = "application/problem+json"),
    (status = 404, description = "`unknown_provider`", body = ProblemBody, content_type = "application/problem+json"),
))]
#[post("/users/me/identities/{provider}")]
pub(super) async fn start_link(
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
        .oauth_start(&provider, response, Some(&auth.0), ip.0)
        .await?;
    Ok(started(&web_settings(&req), flow, response))
}

/// The caller's linked identities.
#[utoipa::path(tag = "users", security(("bearer" = [])), responses(
    (status = 200, description = "Oldest first", body = [IdentityBody]),
))]
#[get("/users/me/identities")]
pub(super) async fn list_identities(app: App, auth: Auth) -> Result<HttpResponse, ApiError> {
    let all = app
        .identity
        .identities(&auth.0)
        .await
        .map_err(|e| ApiError::store(&e))?;
    Ok(HttpResponse::Ok().json(all.iter().map(IdentityBody::from).collect::<Vec<_>>()))
}

/// Unlink an identity, unless it is the account's last way to sign in.
#[utoipa::path(tag = "users", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 204, description = "Unlinked"),
    (status = 403, description = "`session_required`", body = ProblemBody, content_type = "application/problem+json"),
    (status = 404, description = "`not_found`", body = ProblemBody, content_type = "application/problem+json"),
    (status = 409, description = "`last_sign_in_method`", body = ProblemBody, content_type = "application/problem+json"),
))]
#[delete("/users/me/identities/{id}")]
pub(super) async fn unlink_identity(
    app: App,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    app.identity
        .unlink_identity(&auth.0, id.into_inner())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
