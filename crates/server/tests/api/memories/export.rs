//! End to end: the memories module's part of the couple export — memories with photo links of
//! the export's own, both perspectives, every share link without its token — and those photo
//! links, which keep working for 30 days after the couple was dissolved while the memories
//! routes answer `not_in_couple`.

use accueil_domain::couples::SHARED_CONTENT_RETENTION;
use accueil_media::testing::{dimensions, jpeg};
use reqwest::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::photos::{bytes_of, photo_form, send_form};
use crate::common::{TestServer, call, dissolved_earlier, json_of, paired, problem, user, user_id};

/// The export's link to a rendition of a memory's photo.
fn export_link(memory: &str, size: &str) -> String {
    format!("/api/v1/couple/export/memories/{memory}/photo?size={size}")
}

async fn export_of(s: &TestServer, token: &str) -> Value {
    let res = call(s, Method::GET, "/api/v1/couple/export", token, None).await;
    assert_eq!(res.headers()[CACHE_CONTROL], "no-store");
    assert!(
        res.headers()[CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    json_of(res, StatusCode::OK).await
}

/// The bytes of a photo link, after checking it answered an image.
async fn image(s: &TestServer, url: &str, token: &str) -> Vec<u8> {
    let res = bytes_of(s, url, Some(token)).await;
    assert_eq!(res.status(), StatusCode::OK, "{url}");
    assert_eq!(res.headers()[CONTENT_TYPE], "image/jpeg", "{url}");
    res.bytes().await.unwrap().to_vec()
}

/// The problem code a request answers with, after checking its status.
async fn refused(res: reqwest::Response, status: StatusCode) -> String {
    let (got, code, body) = problem(res).await;
    assert_eq!(got, status, "{body}");
    code
}

async fn couple_export_flow(s: &TestServer) {
    let (a, b) = paired(s, "ea@example.org", "eb@example.org").await;
    let (a_id, b_id) = (user_id(s, &a).await, user_id(s, &b).await);
    let with_photo = json_of(
        send_form(
            s,
            Method::POST,
            "/api/v1/memories",
            &a,
            photo_form(jpeg(640, 480), "lac.jpg", "image/jpeg")
                .text("title", "Le lac")
                .text("happened_on", "2023-07-14"),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let photo_id = with_photo["id"].as_str().unwrap().to_owned();
    let bare = json_of(
        call(
            s,
            Method::POST,
            "/api/v1/memories",
            &b,
            Some(json!({"title": "Sans photo", "description": "Juste des mots"})),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let bare_id = bare["id"].as_str().unwrap().to_owned();
    let mine = json_of(
        call(
            s,
            Method::PUT,
            "/api/v1/perspectives/2",
            &b,
            Some(json!({"content": "Mon regard"})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let only_one = json_of(
        call(
            s,
            Method::POST,
            "/api/v1/couple/shares",
            &a,
            Some(json!({"memory_ids": [photo_id]})),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let everything = json_of(
        call(
            s,
            Method::POST,
            "/api/v1/couple/shares",
            &a,
            Some(json!({})),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    json_of(
        call(
            s,
            Method::DELETE,
            &format!(
                "/api/v1/couple/shares/{}",
                everything["id"].as_str().unwrap()
            ),
            &b,
            None,
        )
        .await,
        StatusCode::NO_CONTENT,
    )
    .await;

    let export = export_of(s, &b).await;
    let couple_id = export["couple"]["id"].as_str().unwrap().to_owned();
    assert!(export["couple"]["dissolved_at"].is_null());

    // Memories: every one, each photo linked under the export's own route.
    let memories = export["memories"].as_array().unwrap();
    let mut ids: Vec<&str> = memories.iter().map(|m| m["id"].as_str().unwrap()).collect();
    ids.sort_unstable();
    let mut expected = vec![photo_id.as_str(), bare_id.as_str()];
    expected.sort_unstable();
    assert_eq!(ids, expected);
    let exported = memories.iter().find(|m| m["id"] == photo_id).unwrap();
    assert_eq!(exported["title"], "Le lac");
    assert_eq!(exported["happened_on"], "2023-07-14");
    assert_eq!(exported["created_by"], a_id.as_str());
    for (size, width, height) in [
        ("thumb", 320, 240),
        ("medium", 640, 480),
        ("original", 640, 480),
    ] {
        let r = &exported["photo"][size];
        assert_eq!(r["url"], export_link(&photo_id, size), "{size}");
        assert_eq!(r["content_type"], "image/jpeg");
        assert_eq!(
            (r["width"].as_u64(), r["height"].as_u64()),
            (Some(width), Some(height))
        );
    }
    let bare_exported = memories.iter().find(|m| m["id"] == bare_id).unwrap();
    assert!(bare_exported["photo"].is_null());
    assert_eq!(bare_exported["description"], "Juste des mots");

    // Perspectives: both slots, written or not.
    assert_eq!(
        export["perspectives"],
        json!([
            {"number": 1, "content": null, "author_id": null, "updated_at": null},
            {"number": 2, "content": "Mon regard", "author_id": b_id, "updated_at": mine["updated_at"]},
        ])
    );

    // Share links: every one, in every state, never a token nor a public link.
    let shares = export["shares"].as_array().unwrap();
    assert_eq!(shares.len(), 2);
    for share in shares {
        let mut keys: Vec<&str> = share
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "created_at",
                "created_by",
                "expires_at",
                "id",
                "memory_ids",
                "revoked_at",
                "state"
            ]
        );
        assert_eq!(share["created_by"], a_id.as_str());
    }
    assert_eq!(shares[0]["id"], only_one["id"]);
    assert_eq!(shares[0]["state"], "active");
    assert_eq!(shares[0]["memory_ids"], json!([photo_id]));
    assert_eq!(shares[1]["id"], everything["id"]);
    assert_eq!(shares[1]["state"], "revoked");
    assert!(shares[1]["memory_ids"].is_null() && shares[1]["revoked_at"].is_string());
    let text = export.to_string();
    for token in [&only_one["token"], &everything["token"]] {
        assert!(
            !text.contains(token.as_str().unwrap()),
            "a share token leaked"
        );
    }

    // The export's photo links serve the photo with either partner's credentials, the same
    // bytes as the memories route; nobody else's, and not without credentials.
    let served = image(
        s,
        &format!("/api/v1/memories/{photo_id}/photo?size=original"),
        &a,
    )
    .await;
    for who in [&a, &b] {
        assert_eq!(
            image(s, &export_link(&photo_id, "original"), who).await,
            served
        );
        assert_eq!(
            dimensions(&image(s, &export_link(&photo_id, "thumb"), who).await),
            (320, 240)
        );
    }
    let default_size = format!("/api/v1/couple/export/memories/{photo_id}/photo");
    assert_eq!(
        image(s, &default_size, &b).await,
        served,
        "original by default"
    );
    let anonymous = bytes_of(s, &export_link(&photo_id, "original"), None).await;
    assert_eq!(
        refused(anonymous, StatusCode::UNAUTHORIZED).await,
        "unauthorized"
    );
    let (y, _) = paired(s, "ey@example.org", "ez@example.org").await;
    let stranger = bytes_of(s, &export_link(&photo_id, "original"), Some(&y)).await;
    assert_eq!(
        refused(stranger, StatusCode::NOT_FOUND).await,
        "not_found",
        "another couple's photo"
    );
    let loner = user(s, "eloner@example.org").await;
    let res = bytes_of(s, &export_link(&photo_id, "original"), Some(&loner)).await;
    assert_eq!(refused(res, StatusCode::NOT_FOUND).await, "not_in_couple");
    let no_photo = bytes_of(s, &export_link(&bare_id, "original"), Some(&a)).await;
    assert_eq!(refused(no_photo, StatusCode::NOT_FOUND).await, "not_found");
    let bad_size = bytes_of(s, &export_link(&photo_id, "huge"), Some(&a)).await;
    assert_eq!(
        refused(bad_size, StatusCode::BAD_REQUEST).await,
        "invalid_query"
    );

    // A partner leaves: the memories routes close for both, the export and its links stay.
    json_of(
        call(s, Method::POST, "/api/v1/couple/leave", &a, None).await,
        StatusCode::NO_CONTENT,
    )
    .await;
    for who in [&a, &b] {
        for path in [
            format!("/api/v1/memories/{photo_id}/photo?size=original"),
            format!("/api/v1/memories/{photo_id}"),
            "/api/v1/memories".to_owned(),
        ] {
            let res = call(s, Method::GET, &path, who, None).await;
            assert_eq!(
                refused(res, StatusCode::NOT_FOUND).await,
                "not_in_couple",
                "{path}"
            );
        }
        let after = export_of(s, who).await;
        assert_eq!(after["couple"]["id"], couple_id.as_str());
        assert!(after["couple"]["dissolved_at"].is_string());
        for part in ["memories", "perspectives"] {
            assert_eq!(after[part], export[part], "{part} after leaving");
        }
        // The links stopped with the couple: the still-active one reads as revoked at the
        // dissolution, the one revoked before keeps its own date.
        let shares = after["shares"].as_array().unwrap();
        assert_eq!(shares.len(), 2);
        assert_eq!(shares[0]["id"], only_one["id"]);
        assert_eq!(shares[0]["state"], "revoked");
        assert_eq!(shares[0]["revoked_at"], after["couple"]["dissolved_at"]);
        assert_eq!(shares[1]["state"], "revoked");
        assert_eq!(shares[1]["revoked_at"], export["shares"][1]["revoked_at"]);
        let res = bytes_of(s, &export_link(&photo_id, "original"), Some(who)).await;
        assert_eq!(res.status(), StatusCode::OK);
        let etag = res.headers()[ETAG].to_str().unwrap().to_owned();
        assert_eq!(res.bytes().await.unwrap().to_vec(), served);
        let again = s
            .client
            .get(s.url(&export_link(&photo_id, "original")))
            .bearer_auth(who)
            .header(IF_NONE_MATCH, &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    }

    // The share links stop with the couple.
    let public = bytes_of(s, only_one["url"].as_str().unwrap(), None).await;
    assert_eq!(refused(public, StatusCode::NOT_FOUND).await, "not_found");

    // An API key of the partner's works as well as a session (a `read` key: the links are
    // safe requests), so an export can be fetched by a script.
    let key = json_of(
        call(
            s,
            Method::POST,
            "/api/v1/users/me/api-keys",
            &b,
            Some(json!({"name": "sauvegarde", "scope": "read"})),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let by_key = s
        .client
        .get(s.url(&export_link(&photo_id, "original")))
        .header("X-API-Key", key["secret"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(by_key.status(), StatusCode::OK);
    assert_eq!(by_key.bytes().await.unwrap().to_vec(), served);

    // The partner who left starts a new couple: that is the one they export now, and the old
    // couple's links are not theirs any more; the other partner keeps them.
    json_of(
        call(s, Method::POST, "/api/v1/couple", &a, None).await,
        StatusCode::CREATED,
    )
    .await;
    let fresh = export_of(s, &a).await;
    assert_ne!(fresh["couple"]["id"], couple_id.as_str());
    assert_eq!(fresh["memories"], json!([]));
    let res = bytes_of(s, &export_link(&photo_id, "original"), Some(&a)).await;
    assert_eq!(refused(res, StatusCode::NOT_FOUND).await, "not_found");
    assert_eq!(
        image(s, &export_link(&photo_id, "original"), &b).await,
        served
    );

    // Thirty days after the couple was dissolved, its export and its links are gone.
    dissolved_earlier(
        s,
        &couple_id,
        SHARED_CONTENT_RETENTION - chrono::Duration::minutes(1),
    )
    .await;
    assert_eq!(
        dimensions(&image(s, &export_link(&photo_id, "thumb"), &b).await),
        (320, 240),
        "a minute before the thirty days are over"
    );
    dissolved_earlier(s, &couple_id, chrono::Duration::minutes(2)).await;
    let res = call(s, Method::GET, "/api/v1/couple/export", &b, None).await;
    assert_eq!(refused(res, StatusCode::NOT_FOUND).await, "not_in_couple");
    let res = bytes_of(s, &export_link(&photo_id, "original"), Some(&b)).await;
    assert_eq!(refused(res, StatusCode::NOT_FOUND).await, "not_in_couple");
    let personal = json_of(
        call(s, Method::GET, "/api/v1/users/me/export", &b, None).await,
        StatusCode::OK,
    )
    .await;
    assert!(personal["couple"].is_null());
}

on_both_backends!(couple_export_flow => the_couple_export_on_sqlite, the_couple_export_on_postgres);
