//! Photos over the wire and on disk: multipart uploads as a browser sends them, photo
//! requests with or without credentials, and the files the server stored.

use std::path::{Path, PathBuf};

use reqwest::Method;
use reqwest::multipart::{Form, Part};

use super::TestServer;

/// Every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries {
        let path = e.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// The photo files the server keeps in its data directory.
pub fn stored_photos(s: &TestServer) -> Vec<PathBuf> {
    files_under(&s.data_dir.join("media"))
}

/// A form with one `photo` part.
pub fn photo_form(bytes: Vec<u8>, file_name: &str, mime: &str) -> Form {
    Form::new().part(
        "photo",
        Part::bytes(bytes)
            .file_name(file_name.to_owned())
            .mime_str(mime)
            .unwrap(),
    )
}

/// Sends `form` as `multipart/form-data` with a bearer token.
pub async fn send_form(
    s: &TestServer,
    method: Method,
    path: &str,
    token: &str,
    form: Form,
) -> reqwest::Response {
    s.client
        .request(method, s.url(path))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// `GET url`, with a bearer token or without credentials.
pub async fn bytes_of(s: &TestServer, url: &str, token: Option<&str>) -> reqwest::Response {
    let mut req = s.client.get(s.url(url));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap()
}
