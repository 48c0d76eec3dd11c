//! Crypto and system adapters: the bcrypt password hasher, the HS256 access-token signer,
//! opaque random tokens, the signer of self-authorising links, the system clock and UUIDv7 ids.

mod hasher;
mod jwt;
mod links;
mod system;
mod tokens;

pub use hasher::BcryptHasher;
pub use jwt::{JwtConfig, JwtSigner, MIN_SECRET_BYTES, SecretError, check_secret};
pub use links::HmacLinkSigner;
pub use system::{SystemClock, UuidV7Ids};
pub use tokens::RandomTokens;
