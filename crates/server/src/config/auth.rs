//! Authentication: tokens, password hashing, and which ways to sign in are open.

use chrono::Duration;

use super::declare::section;

section! {
    /// Tokens, passwords and accounts.
    pub struct Auth in "auth" () {
        /// HS256 key, at least 32 random bytes (`openssl rand -base64 48`); required in
        /// production
        jwt_secret: Option<String> = none
            shown "generated once in development and kept in `<data dir>/jwt-secret`",
            env "ACCUEIL_JWT_SECRET", sample "s4mple-Q8zR1xV3mN7bT2yL5kJ9wC4hF6dS0aE",
            redact secret;
        /// `iss` claim
        jwt_issuer: String = "accueil", env "ACCUEIL_JWT_ISSUER", sample "accueil-test";
        /// `aud` claim
        jwt_audience: String = "accueil-api", env "ACCUEIL_JWT_AUDIENCE", sample "accueil-web";
        /// access-token lifetime (`900`, `900s`, `15m`, `1h`, `30d`)
        access_ttl: Duration = "15m", env "ACCUEIL_ACCESS_TTL", sample "5m";
        /// refresh-token lifetime, renewed at each rotation
        refresh_ttl: Duration = "30d", env "ACCUEIL_REFRESH_TTL", sample "7d";
        /// bcrypt cost (4..31; production refuses less than 10)
        bcrypt_cost: u32 = "12", env "ACCUEIL_BCRYPT_COST", sample "10", check bcrypt_range;
        /// password hashes computed at once; a hash holds a core for its whole time, so one
        /// core is left to everything else (a login flood cannot starve reads)
        hash_concurrency: usize = { hashing_threads() } shown "one per core but one, at least 1",
            env "ACCUEIL_HASH_CONCURRENCY", sample "3", check at_least_one;
        /// `true`: login needs a verified address (`403 email_not_verified`)
        require_verified_email: bool = "false",
            env "ACCUEIL_REQUIRE_VERIFIED_EMAIL", sample "true";
        /// how long a deleted (anonymised) account is kept before `purge-deleted` removes it
        deletion_grace: Duration = "30d", env "ACCUEIL_DELETION_GRACE", sample "45d";
        /// `false`: OAuth-only mode: no password registration, login or reset (403
        /// `password_auth_disabled`, and gone from the OpenAPI document); needs a provider
        password_auth: bool = "true", env "ACCUEIL_PASSWORD_AUTH", sample "false";
    }
}

fn hashing_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .saturating_sub(1)
        .max(1)
}

fn at_least_one(n: usize) -> Result<usize, String> {
    Ok(n.max(1))
}

/// bcrypt itself accepts 4 to 31; the production minimum is checked with the mode.
fn bcrypt_range(cost: u32) -> Result<u32, String> {
    if (4..=31).contains(&cost) {
        Ok(cost)
    } else {
        Err("must be between 4 and 31".into())
    }
}
