//! End to end: signed photo URLs — what an `<img src>` does with the `signed_url` of a memory
//! body (no header): the bytes with their cache headers, 304 and ranges, and the 403/404 of a
//! link that was changed, expired, revoked or whose memory went; and a browser on another
//! origin sending `X-API-Key`.

use reqwest::header::{
    ACCEPT_RANGES, CACHE_CONTROL, CONTENT_RANGE, CONTENT_TYPE, ETAG, IF_NONE_MATCH, RANGE,
};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use accueil_media::testing::jpeg;

use crate::common::photos::{bytes_of, photo_form, send_form};
use crate::common::{Db, TestServer, call, json_of, paired, problem};

/// The test servers' `ACCUEIL_PUBLIC_URL`: signed URLs are absolute under it.
const PUBLIC_URL: &str = "https://app.test";

/// A new memory with a photo, as its creator's body.
async fn memory_with_photo(s: &TestServer, token: &str) -> Value {
    json_of(
        send_form(
            s,
            Method::POST,
            "/api/v1/memories",
            token,
            photo_form(jpeg(640, 480), "a.jpg", "image/jpeg").text("title", "Le lac"),
        )
        .await,
        StatusCode::CREATED,
    )
    .await
}

/// A rendition's signed URL, as a path on the test server.
fn signed(memory: &Value, size: &str) -> String {
    let url = memory["photo"][size]["signed_url"].as_str().unwrap();
    url.strip_prefix(PUBLIC_URL)
        .unwrap_or_else(|| panic!("{url} is not under the public URL"))
        .to_owned()
}

/// An `<img>`'s request: no credentials, maybe one more header.
async fn img(s: &TestServer, path: &str, header: Option<(&str, &str)>) -> reqwest::Response {
    let mut req = s.client.get(s.url(path));
    if let Some((name, value)) = header {
        req = req.header(name, value);
    }
    req.send().await.unwrap()
}

async fn signed_urls_work_without_credentials(s: &TestServer) {
    let (a, b) = paired(s, "pa@example.org", "pb@example.org").await;
    let created = memory_with_photo(s, &a).await;
    let id = created["id"].as_str().unwrap().to_owned();
    let original = signed(&created, "original");
    assert!(
        original.starts_with(&format!("/api/v1/photos/{id}/original?")),
        "{original}"
    );
    let expires_at = created["photo"]["signed_urls_expire_at"].as_str().unwrap();
    assert!(chrono::DateTime::parse_from_rfc3339(expires_at).is_ok());

    // The partner's read, the list and a second read give the same URLs: the browser's cache
    // holds.
    let read = json_of(
        call(s, Method::GET, &format!("/api/v1/memories/{id}"), &b, None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(read["photo"], created["photo"]);
    let list = json_of(
        call(s, Method::GET, "/api/v1/memories", &a, None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(list["items"][0]["photo"], created["photo"]);

    // With credentials, the authenticated route gives the same bytes the signed URL does.
    let expected = bytes_of(
        s,
        &format!("/api/v1/memories/{id}/photo?size=original"),
        Some(&a),
    )
    .await
    .bytes()
    .await
    .unwrap();
    let res = img(s, &original, None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[CONTENT_TYPE], "image/jpeg");
    assert_eq!(res.headers()[ACCEPT_RANGES], "bytes");
    let cache = res.headers()[CACHE_CONTROL].to_str().unwrap().to_owned();
    let max_age: i64 = cache
        .strip_prefix("private, max-age=")
        .unwrap_or_else(|| panic!("{cache}"))
        .parse()
        .unwrap();
    assert!(max_age > 1800 && max_age <= 3600, "{cache}");
    let etag = res.headers()[ETAG].to_str().unwrap().to_owned();
    assert!(etag.starts_with('"'), "a strong entity tag: {etag}");
    let body = res.bytes().await.unwrap();
    assert_eq!(body, expected);
    let thumb = img(s, &signed(&created, "thumb"), None).await;
    assert_eq!(thumb.status(), StatusCode::OK);
    assert_ne!(
        thumb.bytes().await.unwrap(),
        body,
        "each size its own rendition"
    );

    // Revalidation and ranges.
    let res = img(s, &original, Some((IF_NONE_MATCH.as_str(), &etag))).await;
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(res.headers()[ETAG], etag.as_str());
    let len = body.len();
    let res = img(s, &original, Some((RANGE.as_str(), "bytes=10-19"))).await;
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        res.headers()[CONTENT_RANGE],
        format!("bytes 10-19/{len}").as_str()
    );
    assert_eq!(res.bytes().await.unwrap(), body[10..20]);
    let res = img(s, &original, Some((RANGE.as_str(), "bytes=-5"))).await;
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(res.bytes().await.unwrap(), body[len - 5..]);
    let res = img(
        s,
        &original,
        Some((RANGE.as_str(), &format!("bytes={len}-"))),
    )
    .await;
    assert_eq!(res.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        res.headers()[CONTENT_RANGE],
        format!("bytes */{len}").as_str()
    );
    // The authenticated route shares the code.
    let res = s
        .client
        .get(s.url(&format!("/api/v1/memories/{id}/photo")))
        .bearer_auth(&b)
        .header(RANGE, "bytes=0-3")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(res.headers()[CACHE_CONTROL], "private, no-cache");
    assert_eq!(res.bytes().await.unwrap(), body[..4]);

    // A changed link is refused before anything is read.
    let mut tampered = original.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let (status, code, _) = problem(img(s, &tampered, None).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::FORBIDDEN, "photo_link_invalid")
    );
    let other_size = original.replace("/original?", "/thumb?");
    let (status, code, _) = problem(img(s, &other_size, None).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::FORBIDDEN, "photo_link_invalid")
    );

    // Either partner revokes every link; memories read later carry working ones.
    let res = call(
        s,
        Method::POST,
        "/api/v1/memories/photo-urls/rotate",
        &b,
        None,
    )
    .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let (status, code, _) = problem(img(s, &original, None).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::FORBIDDEN, "photo_link_invalid")
    );
    let fresh = json_of(
        call(s, Method::GET, &format!("/api/v1/memories/{id}"), &a, None).await,
        StatusCode::OK,
    )
    .await;
    let renewed = signed(&fresh, "original");
    assert_ne!(renewed, original);
    assert!(renewed.contains("&g=1&"), "{renewed}");
    assert_eq!(img(s, &renewed, None).await.status(), StatusCode::OK);

    // A deleted memory's link finds nothing.
    let res = call(
        s,
        Method::DELETE,
        &format!("/api/v1/memories/{id}"),
        &a,
        None,
    )
    .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let (status, code, _) = problem(img(s, &renewed, None).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::NOT_FOUND, "not_found")
    );
}

on_both_backends!(signed_urls_work_without_credentials => signed_urls_sqlite, signed_urls_postgres);

/// With a lifetime of 2 seconds, a link works, then answers 403 `photo_link_expired`.
async fn links_expire(db: Db) {
    let Some(s) = TestServer::start_with(db, &[("ACCUEIL_PHOTO_URL_TTL", "2s")]).await else {
        return;
    };
    let (a, _) = paired(&s, "ea@example.org", "eb@example.org").await;
    let memory = memory_with_photo(&s, &a).await;
    let url = signed(&memory, "medium");
    let expires: i64 = url
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("expires="))
        .unwrap()
        .parse()
        .unwrap();
    let left = expires - chrono::Utc::now().timestamp();
    assert!((0..=2).contains(&left), "{left}");
    if left > 0 {
        assert_eq!(img(&s, &url, None).await.status(), StatusCode::OK);
    }
    let wait = u64::try_from(left.max(0)).unwrap() * 1000 + 300;
    tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
    let (status, code, _) = problem(img(&s, &url, None).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::FORBIDDEN, "photo_link_expired")
    );
    s.stop().await;
}

#[tokio::test]
async fn links_expire_sqlite() {
    links_expire(Db::Sqlite).await;
}

#[tokio::test]
async fn links_expire_postgres() {
    links_expire(Db::Postgres).await;
}

/// A browser on an allowed origin may send `X-API-Key` (and read the photo headers); cookies
/// are never allowed.
#[tokio::test]
async fn other_origins_may_send_an_api_key() {
    let s = TestServer::start_with(
        Db::Sqlite,
        &[("ACCUEIL_CORS_ORIGINS", "https://app.example")],
    )
    .await
    .unwrap();
    let res = s
        .client
        .request(Method::OPTIONS, s.url("/api/v1/memories"))
        .header("origin", "https://app.example")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "x-api-key")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let headers = res.headers();
    assert_eq!(
        headers["access-control-allow-origin"],
        "https://app.example"
    );
    let allowed = headers["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        allowed.split(',').any(|h| h.trim() == "x-api-key"),
        "{allowed}"
    );
    assert!(!headers.contains_key("access-control-allow-credentials"));

    let (a, _) = paired(&s, "ca@example.org", "cb@example.org").await;
    let memory = memory_with_photo(&s, &a).await;
    let res = img(
        &s,
        &signed(&memory, "thumb"),
        Some(("origin", "https://app.example")),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let exposed = res.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    for h in ["etag", "content-range", "accept-ranges"] {
        assert!(exposed.contains(h), "{h} not in {exposed}");
    }
    s.stop().await;
}
