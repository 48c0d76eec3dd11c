//! HS256 access tokens.
//!
//! The algorithm is pinned (a token announcing any other `alg`, `none` included, is refused),
//! and every claim is checked: `iss`, `aud`, `sub` (a user id), `sid` (a session id), `typ`
//! (`access`, so no other kind of token we may sign later passes for one), `iat` (not in the
//! future) and `exp`. Expiry is judged against the application's clock, not the library's, so
//! it is tested without sleeping.

use accueil_domain::identity::{Role, SessionId, UserId};
use accueil_ports::system::{AccessClaims, AccessTokenError, AccessTokens, SignedAccessToken};
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Fewest bytes an HS256 secret may have: the hash's output size (RFC 7518 §3.2).
pub const MIN_SECRET_BYTES: usize = 32;
/// How far in the future `iat` may be, for clock skew between instances.
const IAT_SKEW_SECONDS: i64 = 60;
const TOKEN_TYPE: &str = "access";

/// Why a secret was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// Shorter than [`MIN_SECRET_BYTES`].
    #[error("the JWT secret must have at least {MIN_SECRET_BYTES} bytes")]
    TooShort,
    /// Too few distinct bytes to be random (`aaaa...`, `changeme...`).
    #[error("the JWT secret looks like a placeholder, not a random value")]
    LowEntropy,
}

/// Signer settings.
#[derive(Clone)]
pub struct JwtConfig {
    /// The HMAC key.
    pub secret: Vec<u8>,
    /// `iss`: who issues (e.g. the public URL).
    pub issuer: String,
    /// `aud`: who the tokens are for.
    pub audience: String,
    /// Access-token lifetime.
    pub ttl: Duration,
}

impl std::fmt::Debug for JwtConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtConfig")
            .field("secret", &"<redacted>")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("ttl", &self.ttl)
            .finish()
    }
}

/// Checks that a secret is long and varied enough to be a real random key.
///
/// # Errors
/// [`SecretError::TooShort`] or [`SecretError::LowEntropy`].
pub fn check_secret(secret: &[u8]) -> Result<(), SecretError> {
    if secret.len() < MIN_SECRET_BYTES {
        return Err(SecretError::TooShort);
    }
    let mut seen = [false; 256];
    for b in secret {
        seen[usize::from(*b)] = true;
    }
    let distinct = seen.iter().filter(|s| **s).count();
    let lower = String::from_utf8_lossy(secret).to_lowercase();
    let placeholder = ["secret", "changeme", "change-me", "password", "example"]
        .iter()
        .any(|w| lower.contains(w));
    if distinct < 12 || placeholder {
        return Err(SecretError::LowEntropy);
    }
    Ok(())
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    aud: String,
    sub: String,
    sid: String,
    typ: String,
    iat: i64,
    exp: i64,
    roles: Vec<String>,
}

/// Signs and verifies HS256 access tokens.
pub struct JwtSigner {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    ttl: Duration,
}

impl JwtSigner {
    /// A signer with these settings.
    ///
    /// # Errors
    /// A [`SecretError`] when the secret is too weak.
    pub fn new(config: JwtConfig) -> Result<Self, SecretError> {
        check_secret(&config.secret)?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&config.issuer]);
        validation.set_audience(&[&config.audience]);
        validation.set_required_spec_claims(&["exp", "iat", "sub", "iss", "aud"]);
        // Expiry is checked below against the injected clock.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.leeway = 0;
        Ok(Self {
            encoding: EncodingKey::from_secret(&config.secret),
            decoding: DecodingKey::from_secret(&config.secret),
            validation,
            issuer: config.issuer,
            audience: config.audience,
            ttl: config.ttl,
        })
    }
}

impl AccessTokens for JwtSigner {
    fn issue(
        &self,
        user_id: UserId,
        session_id: SessionId,
        roles: &[Role],
        now: DateTime<Utc>,
    ) -> Result<SignedAccessToken, AccessTokenError> {
        let expires_at = now + self.ttl;
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: user_id.to_string(),
            sid: session_id.to_string(),
            typ: TOKEN_TYPE.into(),
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
            roles: roles.iter().map(|r| r.as_str().to_owned()).collect(),
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| AccessTokenError::Signing(e.to_string()))?;
        Ok(SignedAccessToken { token, expires_at })
    }

    fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<AccessClaims, AccessTokenError> {
        let data = decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| AccessTokenError::Invalid)?;
        let c = data.claims;
        if c.typ != TOKEN_TYPE {
            return Err(AccessTokenError::Invalid);
        }
        let issued_at = DateTime::from_timestamp(c.iat, 0).ok_or(AccessTokenError::Invalid)?;
        let expires_at = DateTime::from_timestamp(c.exp, 0).ok_or(AccessTokenError::Invalid)?;
        if issued_at > now + Duration::seconds(IAT_SKEW_SECONDS) || expires_at <= issued_at {
            return Err(AccessTokenError::Invalid);
        }
        if now >= expires_at {
            return Err(AccessTokenError::Expired);
        }
        let user_id = Uuid::parse_str(&c.sub).map_err(|_| AccessTokenError::Invalid)?;
        let session_id = Uuid::parse_str(&c.sid).map_err(|_| AccessTokenError::Invalid)?;
        let roles = c
            .roles
            .iter()
            .map(|r| Role::parse(r).ok_or(AccessTokenError::Invalid))
            .collect::<Result<_, _>>()?;
        Ok(AccessClaims {
            user_id: UserId(user_id),
            session_id: SessionId(session_id),
            roles,
            issued_at,
            expires_at,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    const SECRET: &[u8] = b"k3Jq9xVb2LmP7rT4wYz8NcH5dF1gS6aE";

    fn signer_with(secret: &[u8], issuer: &str, audience: &str) -> JwtSigner {
        JwtSigner::new(JwtConfig {
            secret: secret.to_vec(),
            issuer: issuer.into(),
            audience: audience.into(),
            ttl: Duration::minutes(15),
        })
        .unwrap()
    }

    fn signer() -> JwtSigner {
        signer_with(SECRET, "accueil", "accueil-api")
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    fn ids() -> (UserId, SessionId) {
        (UserId(Uuid::now_v7()), SessionId(Uuid::now_v7()))
    }

    #[test]
    fn round_trip() {
        let (u, s) = ids();
        let t = signer()
            .issue(u, s, &[Role::User, Role::Admin], now())
            .unwrap();
        assert_eq!(t.expires_at, now() + Duration::minutes(15));
        let c = signer()
            .verify(&t.token, now() + Duration::minutes(14))
            .unwrap();
        assert_eq!(c.user_id, u);
        assert_eq!(c.session_id, s);
        assert_eq!(c.roles, vec![Role::User, Role::Admin]);
    }

    #[test]
    fn expiry_uses_the_given_clock() {
        let (u, s) = ids();
        let t = signer().issue(u, s, &[Role::User], now()).unwrap();
        assert_eq!(
            signer().verify(&t.token, now() + Duration::minutes(15)),
            Err(AccessTokenError::Expired)
        );
    }

    #[test]
    fn issuer_audience_and_key_are_checked() {
        let (u, s) = ids();
        let t = signer().issue(u, s, &[Role::User], now()).unwrap();
        let other_key = signer_with(
            b"Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4",
            "accueil",
            "accueil-api",
        );
        let other_iss = signer_with(SECRET, "someone-else", "accueil-api");
        let other_aud = signer_with(SECRET, "accueil", "another-api");
        for s in [other_key, other_iss, other_aud] {
            assert_eq!(s.verify(&t.token, now()), Err(AccessTokenError::Invalid));
        }
    }

    fn forge(header: &str, claims: &serde_json::Value) -> String {
        let h = URL_SAFE_NO_PAD.encode(header);
        let c = URL_SAFE_NO_PAD.encode(claims.to_string());
        format!("{h}.{c}.")
    }

    #[test]
    fn alg_none_and_other_algorithms_are_refused() {
        let (u, s) = ids();
        let claims = serde_json::json!({
            "iss": "accueil", "aud": "accueil-api", "sub": u.to_string(), "sid": s.to_string(),
            "typ": "access", "iat": now().timestamp(), "exp": now().timestamp() + 60, "roles": ["admin"]
        });
        let none = forge(r#"{"alg":"none","typ":"JWT"}"#, &claims);
        assert_eq!(
            signer().verify(&none, now()),
            Err(AccessTokenError::Invalid)
        );
        let hs512 = encode(
            &Header::new(Algorithm::HS512),
            &claims,
            &EncodingKey::from_secret(SECRET),
        )
        .unwrap();
        assert_eq!(
            signer().verify(&hs512, now()),
            Err(AccessTokenError::Invalid)
        );
    }

    #[test]
    fn wrong_type_future_iat_and_missing_claims_are_refused() {
        let (u, s) = ids();
        let base = serde_json::json!({
            "iss": "accueil", "aud": "accueil-api", "sub": u.to_string(), "sid": s.to_string(),
            "typ": "access", "iat": now().timestamp(), "exp": now().timestamp() + 60, "roles": ["user"]
        });
        let sign = |v: &serde_json::Value| {
            encode(
                &Header::new(Algorithm::HS256),
                v,
                &EncodingKey::from_secret(SECRET),
            )
            .unwrap()
        };
        assert!(signer().verify(&sign(&base), now()).is_ok());
        let mut refresh = base.clone();
        refresh["typ"] = "refresh".into();
        let mut future = base.clone();
        future["iat"] = (now().timestamp() + 3600).into();
        future["exp"] = (now().timestamp() + 7200).into();
        let mut bad_sub = base.clone();
        bad_sub["sub"] = "admin".into();
        let mut bad_role = base.clone();
        bad_role["roles"] = serde_json::json!(["root"]);
        let mut no_exp = base.clone();
        no_exp.as_object_mut().unwrap().remove("exp");
        for v in [refresh, future, bad_sub, bad_role, no_exp] {
            assert_eq!(
                signer().verify(&sign(&v), now()),
                Err(AccessTokenError::Invalid),
                "{v}"
            );
        }
    }

    #[test]
    fn weak_secrets_are_refused() {
        let cfg = |s: &[u8]| JwtConfig {
            secret: s.to_vec(),
            issuer: "i".into(),
            audience: "a".into(),
            ttl: Duration::minutes(1),
        };
        assert_eq!(
            JwtSigner::new(cfg(b"short")).err(),
            Some(SecretError::TooShort)
        );
        assert_eq!(
            JwtSigner::new(cfg(&[b'a'; 64])).err(),
            Some(SecretError::LowEntropy)
        );
        assert_eq!(
            JwtSigner::new(cfg(b"changeme-changeme-changeme-changeme")).err(),
            Some(SecretError::LowEntropy)
        );
    }
}
