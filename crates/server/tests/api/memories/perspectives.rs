//! End to end: perspectives of a couple run by one member, then by two: the solo member writes
//! both, and once partner B joins, number 2 is B's (what A wrote there stays for B to rewrite);
//! `POST /api/v1/perspectives` creates or replaces.

use reqwest::header::LOCATION;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{TestServer, call, json_of, problem, user, user_id};

async fn post(s: &TestServer, token: &str, number: i64, content: &str) -> reqwest::Response {
    call(
        s,
        Method::POST,
        "/api/v1/perspectives",
        token,
        Some(json!({"number": number, "content": content})),
    )
    .await
}

async fn slot(s: &TestServer, token: &str, n: u8) -> Value {
    json_of(
        call(
            s,
            Method::GET,
            &format!("/api/v1/perspectives/{n}"),
            token,
            None,
        )
        .await,
        StatusCode::OK,
    )
    .await
}

async fn refused(res: reqwest::Response) {
    let (status, code, _) = problem(res).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::FORBIDDEN, "not_your_perspective")
    );
}

async fn perspectives_flow(s: &TestServer) {
    let a = user(s, "pa@example.org").await;
    let a_id = user_id(s, &a).await;
    json_of(
        call(s, Method::POST, "/api/v1/couple", &a, None).await,
        StatusCode::CREATED,
    )
    .await;

    // Alone, A writes both: POST creates (201), then replaces (200).
    let res = post(s, &a, 2, "Son regard, par moi").await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers()[LOCATION], "/api/v1/perspectives/2");
    let made = json_of(res, StatusCode::CREATED).await;
    assert_eq!(
        (&made["number"], &made["author_id"]),
        (&json!(2), &json!(a_id))
    );
    let replaced = json_of(post(s, &a, 2, "Son regard, revu").await, StatusCode::OK).await;
    assert_eq!(replaced["content"], "Son regard, revu");
    json_of(
        call(
            s,
            Method::PUT,
            "/api/v1/perspectives/1",
            &a,
            Some(json!({"content": "Le mien"})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let (status, code, body) = problem(post(s, &a, 3, " ").await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
    );
    let fields: Vec<(&str, &str)> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        fields,
        [("number", "out_of_range"), ("content", "required")]
    );

    // B joins: number 2 is B's from now on.
    let invite = json_of(
        call(s, Method::POST, "/api/v1/couple/invite", &a, None).await,
        StatusCode::CREATED,
    )
    .await;
    let b = user(s, "pb@example.org").await;
    let b_id = user_id(s, &b).await;
    json_of(
        call(
            s,
            Method::POST,
            "/api/v1/couple/join",
            &b,
            Some(json!({"code": invite["code"]})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let kept = slot(s, &b, 2).await;
    assert_eq!(
        (&kept["content"], &kept["author_id"]),
        (&json!("Son regard, revu"), &json!(a_id)),
        "what A wrote alone stays"
    );
    refused(post(s, &a, 2, "encore moi").await).await;
    refused(
        call(
            s,
            Method::PUT,
            "/api/v1/perspectives/2",
            &a,
            Some(json!({"content": "encore moi"})),
        )
        .await,
    )
    .await;
    refused(post(s, &b, 1, "pas le mien").await).await;
    let mine = json_of(post(s, &b, 2, "Mon regard").await, StatusCode::OK).await;
    assert_eq!(
        (&mine["content"], &mine["author_id"]),
        (&json!("Mon regard"), &json!(b_id))
    );
    json_of(post(s, &a, 1, "Le mien, revu").await, StatusCode::OK).await;
    let both = json_of(
        call(s, Method::GET, "/api/v1/perspectives", &a, None).await,
        StatusCode::OK,
    )
    .await;
    let texts: Vec<&str> = both
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["content"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["Le mien, revu", "Mon regard"]);
}

on_both_backends!(perspectives_flow => perspectives_solo_then_paired_on_sqlite, perspectives_solo_then_paired_on_postgres);
