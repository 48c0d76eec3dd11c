//! Opaque tokens: 256 random bits, sent once in base64url, stored as a SHA-256 digest.
//!
//! A fast digest is enough here (unlike passwords): the input has 256 bits of entropy, so a
//! stolen digest cannot be reversed by guessing.

use accueil_domain::identity::TokenDigest;
use accueil_ports::system::{OpaqueToken, OpaqueTokens};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Generates tokens from the thread-local CSPRNG (ChaCha, seeded and reseeded by the OS).
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomTokens;

impl OpaqueTokens for RandomTokens {
    fn generate(&self) -> OpaqueToken {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let secret = URL_SAFE_NO_PAD.encode(bytes);
        let digest = self.digest(&secret);
        OpaqueToken { secret, digest }
    }

    fn numeric_code(&self, digits: u32) -> String {
        let digits = digits.clamp(1, 18);
        let bound = 10_u64.pow(digits);
        // `random_range` is uniform (no modulo bias).
        let n = rand::Rng::random_range(&mut rand::rng(), 0..bound);
        format!("{n:0width$}", width = digits as usize)
    }

    fn digest(&self, secret: &str) -> TokenDigest {
        let hash = Sha256::digest(secret.as_bytes());
        TokenDigest(hash.iter().map(|b| format!("{b:02x}")).collect())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn tokens_are_long_unique_and_digested_deterministically() {
        let t = RandomTokens;
        let a = t.generate();
        let b = t.generate();
        assert_eq!(a.secret.len(), 43);
        assert_ne!(a.secret, b.secret);
        assert_eq!(t.digest(&a.secret), a.digest);
        assert_eq!(a.digest.0.len(), 64);
        assert_ne!(a.digest.0, a.secret);
        assert!(!format!("{a:?}").contains(&a.secret));
    }

    #[test]
    fn numeric_codes_have_exactly_the_digits_asked() {
        let t = RandomTokens;
        let codes: Vec<String> = (0..200).map(|_| t.numeric_code(6)).collect();
        assert!(
            codes
                .iter()
                .all(|c| c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()))
        );
        let distinct: std::collections::HashSet<_> = codes.iter().collect();
        assert!(distinct.len() > 190, "random, not a counter");
    }
}
