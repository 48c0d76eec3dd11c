//! The JWT secret: from the settings, or in development generated once and kept in the data
//! directory so tokens survive restarts.

use std::io::Write;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;

use crate::config::{Environment, Settings};

const FILE: &str = "jwt-secret";

pub(crate) fn jwt_secret(settings: &Settings) -> Result<Vec<u8>, String> {
    if let Some(s) = &settings.auth.jwt_secret {
        return Ok(s.as_bytes().to_vec());
    }
    if settings.general.env == Environment::Production {
        return Err("required in production".into());
    }
    let path = settings.general.data_dir.join(FILE);
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim();
        if !existing.is_empty() {
            tracing::info!(path = %path.display(), "development mode: using the JWT secret kept in the data directory");
            return Ok(existing.as_bytes().to_vec());
        }
    }
    let mut bytes = [0u8; 48];
    rand::rng().fill_bytes(&mut bytes);
    let secret = URL_SAFE_NO_PAD.encode(bytes);
    write_private(&path, &secret)
        .map_err(|e| format!("cannot keep a generated secret at {}: {e}", path.display()))?;
    tracing::warn!(
        path = %path.display(),
        "development mode: generated a JWT secret and kept it in the data directory; set ACCUEIL_JWT_SECRET in production"
    );
    Ok(secret.into_bytes())
}

fn write_private(path: &std::path::Path, secret: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path)?;
    f.write_all(secret.as_bytes())?;
    f.sync_all()
}
