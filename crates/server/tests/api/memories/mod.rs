//! End to end: the couple memories site — the seed's documented workflow, upload attacks,
//! isolation between couples, and share links — against a real server and a real disk; and
//! the module's part of the couple export (`export`) and of the change feed (`feed`).

mod export;
mod feed;
mod perspectives;
mod photo_urls;

use std::path::Path;
use std::time::Duration;

use accueil_media::testing::{
    SECRET_MAKE, dimensions, has_gps, jpeg, jpeg_with_gps, png_with_exif, webp_with_exif,
};
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH, LOCATION};
use reqwest::multipart::Form;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::photos::{bytes_of, photo_form, send_form, stored_photos};
use crate::common::{Db, TestServer, call, json_of, paired, problem};

/// The seed's documented workflow: log in, create a memory, upload a photo to it, list,
/// set a perspective, delete the memory; its files are gone from disk.
async fn seed_workflow(s: &TestServer) {
    let (a, b) = paired(s, "ma@example.org", "mb@example.org").await;
    let created = call(
        s,
        Method::POST,
        "/api/v1/memories",
        &a,
        Some(json!({"title": "Notre premier voyage", "description": "Évian, au bord du lac", "happened_on": "2023-07-14"})),
    )
    .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let location = created.headers()[LOCATION].to_str().unwrap().to_owned();
    let memory = created.json::<Value>().await.unwrap();
    let id = memory["id"].as_str().unwrap().to_owned();
    assert_eq!(location, format!("/api/v1/memories/{id}"));
    assert!(memory["photo"].is_null());

    let upload = jpeg_with_gps(1600, 1200);
    let updated = json_of(
        send_form(
            s,
            Method::PATCH,
            &location,
            &a,
            photo_form(upload.clone(), "IMG_0001.jpg", "image/jpeg"),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(updated["title"], "Notre premier voyage", "text fields kept");
    let photo = &updated["photo"];
    assert_eq!(photo["original"]["content_type"], "image/jpeg");
    assert_eq!(photo["original"]["width"], 1600);
    assert_eq!(photo["medium"]["width"], 1280);
    assert_eq!(photo["thumb"]["width"], 320);
    assert_eq!(
        stored_photos(s).len(),
        3,
        "original, medium and thumb on disk"
    );

    let list = json_of(
        call(s, Method::GET, "/api/v1/memories?q=LAC", &b, None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(list["items"][0]["id"], id.as_str());
    let none = json_of(
        call(s, Method::GET, "/api/v1/memories?q=paris", &b, None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(none["items"], json!([]));

    // The partner fetches the photo: right type, caching headers, no EXIF location.
    let url = photo["original"]["url"].as_str().unwrap().to_owned();
    let res = bytes_of(s, &url, Some(&b)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[CONTENT_TYPE], "image/jpeg");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(res.headers()[CACHE_CONTROL], "private, no-cache");
    let etag = res.headers()[ETAG].to_str().unwrap().to_owned();
    let original = res.bytes().await.unwrap();
    assert!(has_gps(&upload), "the fixture does carry a location");
    assert!(
        !has_gps(&original),
        "the stored original has no EXIF location"
    );
    assert!(
        !original
            .windows(SECRET_MAKE.len())
            .any(|w| w == SECRET_MAKE.as_bytes()),
        "nor the camera's name"
    );
    assert_eq!(dimensions(&original), (1600, 1200));
    let again = s
        .client
        .get(s.url(&url))
        .bearer_auth(&b)
        .header(IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    let thumb = bytes_of(s, photo["thumb"]["url"].as_str().unwrap(), Some(&a)).await;
    assert_eq!(thumb.status(), StatusCode::OK);
    assert_eq!(dimensions(&thumb.bytes().await.unwrap()), (320, 240));
    let bad_size = bytes_of(s, &format!("{location}/photo?size=huge"), Some(&a)).await;
    assert_eq!(bad_size.status(), StatusCode::BAD_REQUEST);

    json_of(
        call(
            s,
            Method::PUT,
            "/api/v1/perspectives/1",
            &a,
            Some(json!({"content": "Ce jour-là, j'ai su."})),
        )
        .await,
        StatusCode::OK,
    )
    .await;

    json_of(
        call(s, Method::DELETE, &location, &b, None).await,
        StatusCode::NO_CONTENT,
    )
    .await;
    assert!(stored_photos(s).is_empty(), "its files are gone from disk");
    let (status, code, _) = problem(call(s, Method::GET, &location, &a, None).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::NOT_FOUND, "not_found")
    );
}

on_both_backends!(seed_workflow => the_seed_workflow_on_sqlite, the_seed_workflow_on_postgres);

/// Sends a chunked multipart upload of `total` bytes without a Content-Length, and returns the
/// status line the server answers with, and how much it had taken when it answered.
async fn chunked_upload(s: &TestServer, token: &str, total: usize) -> (String, usize) {
    let addr = s.base.trim_start_matches("http://").to_owned();
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /api/v1/memories HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: multipart/form-data; boundary=XyZ\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let preamble = "--XyZ\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"a.jpg\"\r\n\
                    Content-Type: image/jpeg\r\n\r\n";
    let chunk = |data: &[u8]| {
        let mut c = format!("{:x}\r\n", data.len()).into_bytes();
        c.extend_from_slice(data);
        c.extend_from_slice(b"\r\n");
        c
    };
    tcp.write_all(&chunk(preamble.as_bytes())).await.unwrap();
    let block = vec![0xFFu8; 64 * 1024];
    let mut sent = 0;
    while sent < total {
        if tcp.write_all(&chunk(&block)).await.is_err() {
            break; // the server stopped reading and closed
        }
        sent += block.len();
        // Let the server answer as soon as it has seen enough.
        let mut peek = [0u8; 12];
        if let Ok(Ok(n)) = tokio::time::timeout(Duration::from_millis(1), tcp.peek(&mut peek)).await
            && n > 0
        {
            break;
        }
    }
    let mut answer = vec![0u8; 1024];
    let n = tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut answer))
        .await
        .unwrap()
        .unwrap_or(0);
    let line = String::from_utf8_lossy(&answer[..n])
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    (line, sent)
}

#[tokio::test]
async fn upload_attacks_are_refused() {
    let s = TestServer::start_with(
        Db::Sqlite,
        &[
            ("ACCUEIL_MAX_PHOTO_BYTES", "300000"),
            ("ACCUEIL_MAX_PHOTO_PIXELS", "1000000"),
        ],
    )
    .await
    .unwrap();
    let (a, _) = paired(&s, "ua@example.org", "ub@example.org").await;
    let form = |bytes, name: &str, mime: &str| photo_form(bytes, name, mime).text("title", "x");

    // An HTML page named photo.jpg and declared image/jpeg.
    let html = b"<html><script>alert(1)</script></html>".to_vec();
    let (status, code, _) = problem(
        send_form(
            &s,
            Method::POST,
            "/api/v1/memories",
            &a,
            form(html, "photo.jpg", "image/jpeg"),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_image_type")
    );

    // Too large, with a Content-Length: refused before reading.
    let (status, code, _) = problem(
        send_form(
            &s,
            Method::POST,
            "/api/v1/memories",
            &a,
            form(vec![0xFF; 2_000_000], "big.jpg", "image/jpeg"),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
    );

    // Too large, streamed without a length: refused once past the limit, long before the
    // 50 MB the client would send.
    let (line, sent) = chunked_upload(&s, &a, 50 * 1024 * 1024).await;
    assert!(line.contains("413"), "{line}");
    assert!(
        sent < 5 * 1024 * 1024,
        "the server stopped reading after {sent} bytes"
    );

    // A file name that climbs: stored under server-made names only.
    let made = json_of(
        send_form(
            &s,
            Method::POST,
            "/api/v1/memories",
            &a,
            form(jpeg(64, 48), "../../../../etc/evil.jpg", "text/html"),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let files = stored_photos(&s);
    assert_eq!(files.len(), 3);
    let root = s.data_dir.join("media").join("files").join("couples");
    let photo_id = made["photo"]["original"]["url"]
        .as_str()
        .unwrap()
        .to_owned();
    for f in &files {
        assert!(f.starts_with(&root), "{} is outside the store", f.display());
        let name = f.file_name().unwrap().to_str().unwrap();
        assert!(
            ["original.jpg", "medium.jpg", "thumb.jpg"].contains(&name),
            "{name}"
        );
        assert!(!f.display().to_string().contains("evil"));
    }
    assert!(!s.data_dir.join("etc").exists() && !Path::new("/etc/evil.jpg").exists());
    assert!(photo_id.starts_with("/api/v1/memories/"));

    // More pixels than allowed: refused from the header, before decoding.
    let (status, code, _) = problem(
        send_form(
            &s,
            Method::POST,
            "/api/v1/memories",
            &a,
            form(jpeg(1200, 1000), "big.jpg", "image/jpeg"),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "image_too_large")
    );
    assert_eq!(stored_photos(&s).len(), 3, "nothing more was stored");

    // PNG and WebP lose their EXIF too, and a rotated photo comes back upright.
    for (bytes, mime) in [
        (png_with_exif(60, 40, 6), "image/png"),
        (webp_with_exif(60, 40, 6), "image/webp"),
    ] {
        assert!(has_gps(&bytes));
        let made = json_of(
            send_form(
                &s,
                Method::POST,
                "/api/v1/memories",
                &a,
                form(bytes, "x", mime),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(made["photo"]["original"]["content_type"], mime);
        assert_eq!(
            (
                made["photo"]["original"]["width"].as_u64(),
                made["photo"]["original"]["height"].as_u64()
            ),
            (Some(40), Some(60)),
            "upright"
        );
        let url = made["photo"]["original"]["url"].as_str().unwrap();
        let stored = bytes_of(&s, url, Some(&a)).await.bytes().await.unwrap();
        assert!(!has_gps(&stored), "{mime} keeps no location");
    }

    // A form whose file input was left empty is a memory without a photo.
    let bare = json_of(
        send_form(
            &s,
            Method::POST,
            "/api/v1/memories",
            &a,
            form(Vec::new(), "", "application/octet-stream"),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert!(bare["photo"].is_null());

    // Unknown form fields are refused, as unknown JSON fields are.
    let (status, code, _) = problem(
        send_form(
            &s,
            Method::POST,
            "/api/v1/memories",
            &a,
            Form::new().text("title", "x").text("couple_id", "y"),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::BAD_REQUEST, "unknown_field")
    );
    s.stop().await;
}

#[tokio::test]
async fn another_couple_sees_nothing_and_shares_open_only_what_they_list() {
    let s = TestServer::start().await;
    let (a, b) = paired(&s, "sa@example.org", "sb@example.org").await;
    let (y, _) = paired(&s, "sy@example.org", "sz@example.org").await;
    let create = |title: &'static str| {
        let s = &s;
        let a = a.clone();
        async move {
            json_of(
                send_form(
                    s,
                    Method::POST,
                    "/api/v1/memories",
                    &a,
                    photo_form(jpeg(80, 60), "p.jpg", "image/jpeg").text("title", title),
                )
                .await,
                StatusCode::CREATED,
            )
            .await
        }
    };
    let shown = create("Montrée").await;
    let hidden = create("Cachée").await;
    let (shown_id, hidden_id) = (
        shown["id"].as_str().unwrap().to_owned(),
        hidden["id"].as_str().unwrap().to_owned(),
    );
    json_of(
        call(
            &s,
            Method::PUT,
            "/api/v1/perspectives/2",
            &b,
            Some(json!({"content": "Mon regard"})),
        )
        .await,
        StatusCode::OK,
    )
    .await;

    // Another couple: every memory route answers 404, and their perspectives are their own.
    for (method, path) in [
        (Method::GET, format!("/api/v1/memories/{shown_id}")),
        (Method::GET, format!("/api/v1/memories/{shown_id}/photo")),
        (
            Method::GET,
            format!("/api/v1/memories/{shown_id}/photo?size=thumb"),
        ),
        (Method::PATCH, format!("/api/v1/memories/{shown_id}")),
        (Method::DELETE, format!("/api/v1/memories/{shown_id}")),
    ] {
        let body = (method == Method::PATCH).then(|| json!({"title": "pris"}));
        let (status, _, _) = problem(call(&s, method.clone(), &path, &y, body).await).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}");
    }
    let theirs = json_of(
        call(&s, Method::GET, "/api/v1/memories", &y, None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(theirs["items"], json!([]));
    let persp = json_of(
        call(&s, Method::GET, "/api/v1/perspectives", &y, None).await,
        StatusCode::OK,
    )
    .await;
    assert!(
        persp
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["content"].is_null())
    );

    // Without a share, nothing is public.
    let (status, _, _) = problem(bytes_of(&s, "/api/v1/public/not-a-token", None).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let share = json_of(
        call(
            &s,
            Method::POST,
            "/api/v1/couple/shares",
            &a,
            Some(json!({"memory_ids": [shown_id]})),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let public = share["url"].as_str().unwrap().to_owned();
    let site = json_of(bytes_of(&s, &public, None).await, StatusCode::OK).await;
    assert_eq!(site["memories"]["items"].as_array().unwrap().len(), 1);
    assert_eq!(site["memories"]["items"][0]["title"], "Montrée");
    assert_eq!(site["perspectives"][1]["content"], "Mon regard");
    let photo_url = site["memories"]["items"][0]["photo"]["thumb"]["url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        photo_url.starts_with(&format!("{public}/memories/")),
        "{photo_url}"
    );
    let photo = bytes_of(&s, &photo_url, None).await;
    assert_eq!(photo.status(), StatusCode::OK);
    assert_eq!(photo.headers()[CONTENT_TYPE], "image/jpeg");
    let hidden_photo = bytes_of(&s, &format!("{public}/memories/{hidden_id}/photo"), None).await;
    assert_eq!(
        hidden_photo.status(),
        StatusCode::NOT_FOUND,
        "a memory the share does not list"
    );

    // The list shows the share without its token; revoking closes the link and its photos.
    let shares = json_of(
        call(&s, Method::GET, "/api/v1/couple/shares", &b, None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(shares[0]["state"], "active");
    assert!(shares[0].get("token").is_none());
    let (status, _, _) = problem(
        call(
            &s,
            Method::DELETE,
            &format!("/api/v1/couple/shares/{}", share["id"].as_str().unwrap()),
            &y,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another couple cannot revoke it"
    );
    json_of(
        call(
            &s,
            Method::DELETE,
            &format!("/api/v1/couple/shares/{}", share["id"].as_str().unwrap()),
            &b,
            None,
        )
        .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    assert_eq!(
        bytes_of(&s, &public, None).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        bytes_of(&s, &photo_url, None).await.status(),
        StatusCode::NOT_FOUND
    );

    // An expired link stops working.
    let soon = (chrono::Utc::now() + chrono::Duration::milliseconds(1500)).to_rfc3339();
    let short = json_of(
        call(
            &s,
            Method::POST,
            "/api/v1/couple/shares",
            &a,
            Some(json!({"expires_at": soon})),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let short_url = short["url"].as_str().unwrap().to_owned();
    let all = json_of(bytes_of(&s, &short_url, None).await, StatusCode::OK).await;
    assert_eq!(
        all["memories"]["items"].as_array().unwrap().len(),
        2,
        "no list: all memories"
    );
    tokio::time::sleep(Duration::from_millis(1700)).await;
    assert_eq!(
        bytes_of(&s, &short_url, None).await.status(),
        StatusCode::NOT_FOUND
    );
    let shares = json_of(
        call(&s, Method::GET, "/api/v1/couple/shares", &a, None).await,
        StatusCode::OK,
    )
    .await;
    let states: Vec<&str> = shares
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["revoked", "expired"]);
    s.stop().await;
}
