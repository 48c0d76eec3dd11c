//! End to end: the memories module in the couple's change feed — `memory` entries for
//! creation, changes and photo replacement and a tombstone for deletion, `perspective` entries
//! named by the perspective's number, `share` entries for making and revoking a link — once
//! each, in order, without content, and only for changes that happened.

use accueil_media::testing::{jpeg, png_with_exif};
use reqwest::multipart::Form;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::photos::{photo_form, send_form};
use crate::common::{TestServer, call, json_of, paired, problem};

/// The feed id of perspective `n` (its number as a UUID).
fn perspective(n: u8) -> String {
    format!("00000000-0000-0000-0000-00000000000{n}")
}

/// The couple's feed after `cursor`: the whole answer.
async fn feed(s: &TestServer, token: &str, cursor: &str) -> Value {
    crate::common::feed_after(s, token, cursor).await.1
}

async fn memories_feed_flow(s: &TestServer) {
    let (a, b) = paired(s, "fa@example.org", "fb@example.org").await;
    let cursor = feed(s, &a, "0").await["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let id = |v: &Value| v["id"].as_str().unwrap().to_owned();

    // A memory: made with a photo, its text changed, its photo replaced.
    let first = json_of(
        send_form(
            s,
            Method::POST,
            "/api/v1/memories",
            &a,
            photo_form(jpeg(64, 48), "un.jpg", "image/jpeg").text("title", "Un"),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let m1 = id(&first);
    let path = format!("/api/v1/memories/{m1}");
    json_of(
        call(
            s,
            Method::PATCH,
            &path,
            &b,
            Some(json!({"title": "Un, encore"})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let replaced = json_of(
        send_form(
            s,
            Method::PATCH,
            &path,
            &a,
            photo_form(png_with_exif(60, 40, 1), "deux.png", "image/png"),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(replaced["photo"]["original"]["content_type"], "image/png");
    let m2 = id(&json_of(
        call(
            s,
            Method::POST,
            "/api/v1/memories",
            &b,
            Some(json!({"title": "Deux"})),
        )
        .await,
        StatusCode::CREATED,
    )
    .await);

    // Refused changes are not changes: none of these is in the feed.
    let res = call(
        s,
        Method::PUT,
        "/api/v1/perspectives/1",
        &b,
        Some(json!({"content": "pas le mien"})),
    )
    .await;
    assert_eq!(problem(res).await.1, "not_your_perspective");
    let res = send_form(
        s,
        Method::POST,
        "/api/v1/memories",
        &a,
        photo_form(b"<html></html>".to_vec(), "x.jpg", "image/jpeg").text("title", "x"),
    )
    .await;
    assert_eq!(problem(res).await.1, "unsupported_image_type");
    let res = send_form(
        s,
        Method::PATCH,
        &format!("/api/v1/memories/{m2}"),
        &a,
        Form::new().text("title", " "),
    )
    .await;
    assert_eq!(problem(res).await.1, "validation_failed");

    // Perspectives: each partner's, and a rewrite.
    for (token, n, text) in [
        (&a, 1, "Le mien"),
        (&b, 2, "Le sien"),
        (&a, 1, "Le mien, encore"),
    ] {
        json_of(
            call(
                s,
                Method::PUT,
                &format!("/api/v1/perspectives/{n}"),
                token,
                Some(json!({"content": text})),
            )
            .await,
            StatusCode::OK,
        )
        .await;
    }

    // A share link, made then revoked; revoking it again changes nothing.
    let share = json_of(
        call(
            s,
            Method::POST,
            "/api/v1/couple/shares",
            &a,
            Some(json!({"memory_ids": [m1]})),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let share_id = id(&share);
    for _ in 0..2 {
        json_of(
            call(
                s,
                Method::DELETE,
                &format!("/api/v1/couple/shares/{share_id}"),
                &b,
                None,
            )
            .await,
            StatusCode::NO_CONTENT,
        )
        .await;
    }

    // Deleting the memory leaves a tombstone.
    json_of(
        call(s, Method::DELETE, &path, &b, None).await,
        StatusCode::NO_CONTENT,
    )
    .await;

    let page = feed(s, &b, &cursor).await;
    assert_eq!(page["has_more"], false);
    let changes = page["changes"].as_array().unwrap();
    let got: Vec<(&str, &str, &str)> = changes
        .iter()
        .map(|c| {
            (
                c["type"].as_str().unwrap(),
                c["id"].as_str().unwrap(),
                c["op"].as_str().unwrap(),
            )
        })
        .collect();
    let (p1, p2) = (perspective(1), perspective(2));
    assert_eq!(
        got,
        vec![
            ("memory", m1.as_str(), "upsert"),
            ("memory", m1.as_str(), "upsert"),
            ("memory", m1.as_str(), "upsert"),
            ("memory", m2.as_str(), "upsert"),
            ("perspective", p1.as_str(), "upsert"),
            ("perspective", p2.as_str(), "upsert"),
            ("perspective", p1.as_str(), "upsert"),
            ("share", share_id.as_str(), "upsert"),
            ("share", share_id.as_str(), "upsert"),
            ("memory", m1.as_str(), "delete"),
        ]
    );
    // Each entry names the entity and when it changed, oldest first; nothing of its content.
    for c in changes {
        let mut keys: Vec<&str> = c.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["id", "op", "type", "updated_at"]);
    }
    let times: Vec<chrono::DateTime<chrono::Utc>> = changes
        .iter()
        .map(|c| c["updated_at"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    let text = page.to_string();
    for content in [
        "Un, encore",
        "Le mien",
        "Le sien",
        share["token"].as_str().unwrap(),
    ] {
        assert!(!text.contains(content), "the feed carries {content:?}");
    }
    // The perspective entries lead to the perspective itself.
    let one = json_of(
        call(s, Method::GET, "/api/v1/perspectives/1", &b, None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(one["content"], "Le mien, encore");

    // Nothing twice, and nothing for another couple.
    let again = feed(s, &a, page["next_cursor"].as_str().unwrap()).await;
    assert_eq!(again["changes"], json!([]));
    let (y, _) = paired(s, "fy@example.org", "fz@example.org").await;
    let theirs = feed(s, &y, "0").await.to_string();
    for seen in [&m1, &m2, &share_id] {
        assert!(!theirs.contains(seen.as_str()), "another couple's feed");
    }
    assert!(!theirs.contains("\"perspective\""));
}

on_both_backends!(memories_feed_flow => the_memories_feed_on_sqlite, the_memories_feed_on_postgres);
