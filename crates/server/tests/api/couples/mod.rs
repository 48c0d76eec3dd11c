//! End to end: the couples app's flow — pairing by code, Q&A with mutual reveal, the change
//! feed — and isolation between couples.

mod goals_milestones;
mod letters_checkins;
mod partner_mail;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{Db, TestServer, call, json_of, paired, problem, user};

/// The feed after `cursor`, as (type, op) pairs, and the whole answer.
async fn feed_after(s: &TestServer, token: &str, cursor: &str) -> (Vec<(String, String)>, Value) {
    let (entries, feed) = crate::common::feed_after(s, token, cursor).await;
    (
        entries.into_iter().map(|(t, _, op)| (t, op)).collect(),
        feed,
    )
}

async fn couple_flow(s: &TestServer) {
    let a = user(s, "a@example.org").await;
    let b = user(s, "b@example.org").await;

    // A creates the couple and invites; B joins.
    let res = call(s, Method::GET, "/api/v1/couple", &a, None).await;
    assert_eq!(problem(res).await.1, "not_in_couple");
    let couple = json_of(
        call(s, Method::POST, "/api/v1/couple", &a, None).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(couple["is_full"], false);
    let cursor0 = json_of(
        call(s, Method::GET, "/api/v1/sync/changes?cursor=0", &a, None).await,
        StatusCode::OK,
    )
    .await;
    let invite = json_of(
        call(
            s,
            Method::POST,
            "/api/v1/couple/invite",
            &a,
            Some(json!({"ttl_minutes": 30})),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let code = invite["code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 6);
    assert!(invite["expires_at"].as_str().is_some());
    let res = call(
        s,
        Method::POST,
        "/api/v1/couple/invite",
        &a,
        Some(json!({"ttl_minutes": 0})),
    )
    .await;
    assert_eq!(problem(res).await.2["errors"][0]["code"], "out_of_range");
    let res = call(
        s,
        Method::POST,
        "/api/v1/couple/join",
        &b,
        Some(json!({"code": "000000"})),
    )
    .await;
    let wrong = problem(res).await.1;
    assert!(wrong == "invalid_code", "{wrong}");
    let joined = json_of(
        call(
            s,
            Method::POST,
            "/api/v1/couple/join",
            &b,
            Some(json!({"code": code})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(joined["is_full"], true);
    assert_eq!(joined["id"], couple["id"]);
    let c = user(s, "c@example.org").await;
    let res = call(
        s,
        Method::POST,
        "/api/v1/couple/join",
        &c,
        Some(json!({"code": code})),
    )
    .await;
    assert_eq!(problem(res).await.1, "code_used");

    // Q&A with mutual reveal.
    let q = json_of(
        call(
            s,
            Method::POST,
            "/api/v1/qna/questions",
            &a,
            Some(json!({"text": "Where next?", "theme": "travel"})),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let qid = q["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/qna/questions/{qid}/answers");
    let mine = json_of(
        call(
            s,
            Method::POST,
            &path,
            &a,
            Some(json!({"status": "ANSWERED", "text": "Lisbon"})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(mine["reveal"], "waiting_for_partner");
    let seen_by_b = json_of(
        call(
            s,
            Method::GET,
            &format!("/api/v1/qna/questions/{qid}"),
            &b,
            None,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(seen_by_b["reveal"], "waiting_for_you");
    assert!(
        seen_by_b["answers"][0]["text"].is_null(),
        "hidden: {seen_by_b}"
    );
    assert!(!seen_by_b.to_string().contains("Lisbon"));
    let both = json_of(
        call(
            s,
            Method::POST,
            &path,
            &b,
            Some(json!({"status": "ANSWERED", "text": "Kyoto"})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(both["reveal"], "revealed");
    assert!(both.to_string().contains("Lisbon") && both.to_string().contains("Kyoto"));
    let res = call(
        s,
        Method::DELETE,
        &format!("/api/v1/qna/questions/{qid}"),
        &b,
        None,
    )
    .await;
    assert_eq!(problem(res).await.1, "not_author");

    // Pagination.
    for i in 0..3 {
        json_of(
            call(
                s,
                Method::POST,
                "/api/v1/qna/questions",
                &b,
                Some(json!({"text": format!("Q{i}?")})),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
    }
    let p1 = json_of(
        call(s, Method::GET, "/api/v1/qna/questions?limit=2", &a, None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(p1["items"].as_array().unwrap().len(), 2);
    let next = p1["next_cursor"].as_str().unwrap().to_owned();
    let p2 = json_of(
        call(
            s,
            Method::GET,
            &format!("/api/v1/qna/questions?limit=2&cursor={next}"),
            &a,
            None,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(p2["items"].as_array().unwrap().len(), 2);
    assert!(p2["next_cursor"].is_null());
    assert_eq!(p2["items"][1]["id"], qid.as_str(), "oldest last");

    // The feed: every change once, in order, a deletion as a tombstone.
    let res = call(
        s,
        Method::DELETE,
        &format!("/api/v1/qna/questions/{qid}"),
        &a,
        None,
    )
    .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let after = cursor0["next_cursor"].as_str().unwrap();
    let (entries, feed) = feed_after(s, &b, after).await;
    let expect: Vec<(&str, &str)> = vec![
        ("invite", "upsert"),
        ("invite", "upsert"),
        ("couple", "upsert"),
        ("question", "upsert"),
        ("answer", "upsert"),
        ("answer", "upsert"),
        ("question", "upsert"),
        ("question", "upsert"),
        ("question", "upsert"),
        ("answer", "delete"),
        ("answer", "delete"),
        ("question", "delete"),
    ];
    let got: Vec<(&str, &str)> = entries
        .iter()
        .map(|(k, o)| (k.as_str(), o.as_str()))
        .collect();
    assert_eq!(got, expect);
    assert!(
        !feed.to_string().contains("Lisbon"),
        "the feed carries no content"
    );
    let again = json_of(
        call(
            s,
            Method::GET,
            &format!(
                "/api/v1/sync/changes?cursor={}",
                feed["next_cursor"].as_str().unwrap()
            ),
            &a,
            None,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert!(
        again["changes"].as_array().unwrap().is_empty(),
        "nothing twice"
    );
    let compat = json_of(
        call(
            s,
            Method::GET,
            "/api/v1/sync/changes?since=2000-01-01T00:00:00Z",
            &a,
            None,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        compat["changes"].as_array().unwrap().len(),
        13,
        "the seed's `since` still works"
    );

    // Isolation: another couple gets 404 for every id of the first; a loner gets not_in_couple.
    let z = user(s, "z@example.org").await;
    json_of(
        call(s, Method::POST, "/api/v1/couple", &z, None).await,
        StatusCode::CREATED,
    )
    .await;
    let some_q = p1["items"][0]["id"].as_str().unwrap();
    for (m, path, body) in [
        (Method::GET, format!("/api/v1/qna/questions/{some_q}"), None),
        (
            Method::PATCH,
            format!("/api/v1/qna/questions/{some_q}"),
            Some(json!({"text": "mine now?"})),
        ),
        (
            Method::DELETE,
            format!("/api/v1/qna/questions/{some_q}"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/qna/questions/{some_q}/answers"),
            Some(json!({"status": "ANSWERED", "text": "x"})),
        ),
    ] {
        let res = call(s, m.clone(), &path, &z, body).await;
        let (status, code, _) = problem(res).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::NOT_FOUND, "not_found"),
            "{m} {path}"
        );
    }
    let zq = json_of(
        call(s, Method::GET, "/api/v1/qna/questions", &z, None).await,
        StatusCode::OK,
    )
    .await;
    assert!(zq["items"].as_array().unwrap().is_empty());
    for (m, path) in [
        (Method::GET, "/api/v1/couple"),
        (Method::POST, "/api/v1/couple/invite"),
        (Method::POST, "/api/v1/couple/leave"),
        (Method::GET, "/api/v1/couple/export"),
        (Method::GET, "/api/v1/qna/questions"),
        (Method::POST, "/api/v1/qna/questions"),
        (Method::GET, "/api/v1/sync/changes"),
    ] {
        let body = if m == Method::POST {
            Some(json!({"text": "x?"}))
        } else {
            None
        };
        let body = if path.ends_with("invite") || path.ends_with("leave") {
            None
        } else {
            body
        };
        let res = call(s, m.clone(), path, &c, body).await;
        assert_eq!(problem(res).await.1, "not_in_couple", "{m} {path}");
    }

    // Export, then leave: dissolved for both; the export stays available.
    let export = json_of(
        call(s, Method::GET, "/api/v1/couple/export", &b, None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(export["questions"].as_array().unwrap().len(), 3);
    json_of(
        call(s, Method::POST, "/api/v1/couple/leave", &a, None).await,
        StatusCode::NO_CONTENT,
    )
    .await;
    let res = call(s, Method::GET, "/api/v1/couple", &b, None).await;
    assert_eq!(problem(res).await.1, "not_in_couple");
    let export = json_of(
        call(s, Method::GET, "/api/v1/couple/export", &b, None).await,
        StatusCode::OK,
    )
    .await;
    assert!(export["couple"]["dissolved_at"].is_string());
}

on_both_backends!(couple_flow => the_couples_flow_on_sqlite, the_couples_flow_on_postgres);

#[tokio::test]
async fn join_attempts_are_rate_limited() {
    let s = TestServer::start_with(Db::Sqlite, &[("ACCUEIL_RATE_JOIN_USER", "3/15m")])
        .await
        .unwrap();
    let b = user(&s, "b@example.org").await;
    for _ in 0..3 {
        let res = call(
            &s,
            Method::POST,
            "/api/v1/couple/join",
            &b,
            Some(json!({"code": "123456"})),
        )
        .await;
        assert_eq!(problem(res).await.1, "invalid_code");
    }
    let res = call(
        &s,
        Method::POST,
        "/api/v1/couple/join",
        &b,
        Some(json!({"code": "123457"})),
    )
    .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
    s.stop().await;
}

async fn content_flow(s: &TestServer) {
    let (a, b) = paired(s, "ga@example.org", "gb@example.org").await;
    let start = json_of(
        call(s, Method::GET, "/api/v1/sync/changes?cursor=0", &a, None).await,
        StatusCode::OK,
    )
    .await;
    let cursor = start["next_cursor"].as_str().unwrap().to_owned();

    // Goals and actions; status transitions enforced.
    let goal = json_of(
        call(
            s,
            Method::POST,
            "/api/v1/goals",
            &a,
            Some(json!({"title": "Learn Portuguese", "target_date": "2027-06-01"})),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let gid = goal["id"].as_str().unwrap().to_owned();
    assert_eq!(goal["status"], "ACTIVE");
    let action = json_of(
        call(
            s,
            Method::POST,
            &format!("/api/v1/goals/{gid}/actions"),
            &b,
            Some(json!({"title": "Find a teacher", "owner": "B"})),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let aid = action["id"].as_str().unwrap().to_owned();
    let done = json_of(
        call(
            s,
            Method::PATCH,
            &format!("/api/v1/goals/{gid}/actions/{aid}"),
            &b,
            Some(json!({"done": true})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert!(done["completed_at"].is_string());
    let paused = json_of(
        call(
            s,
            Method::PATCH,
            &format!("/api/v1/goals/{gid}"),
            &a,
            Some(json!({"status": "PAUSED"})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(paused["status"], "PAUSED");
    let finished = json_of(
        call(
            s,
            Method::PATCH,
            &format!("/api/v1/goals/{gid}"),
            &a,
            Some(json!({"status": "DONE"})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(finished["status"], "DONE", "a paused goal may be completed");
    let res = call(
        s,
        Method::PATCH,
        &format!("/api/v1/goals/{gid}"),
        &a,
        Some(json!({"status": "PAUSED"})),
    )
    .await;
    assert_eq!(problem(res).await.1, "invalid_transition");
    let g = json_of(
        call(s, Method::GET, &format!("/api/v1/goals/{gid}"), &b, None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(g["actions"], json!({"total": 1, "done": 1}));

    // Check-ins: one per user per day; posting again updates; partners see each other's.
    let first = json_of(
        call(
            s,
            Method::POST,
            "/api/v1/checkins",
            &a,
            Some(json!({"mood": 6, "stress": 4, "energy": 7})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let again = json_of(
        call(
            s,
            Method::POST,
            "/api/v1/checkins",
            &a,
            Some(json!({"mood": 8, "stress": 3, "energy": 7, "note": "better"})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(first["id"], again["id"]);
    assert_eq!(again["mood"], 8);
    json_of(
        call(
            s,
            Method::POST,
            "/api/v1/checkins",
            &b,
            Some(json!({"mood": 5, "stress": 5, "energy": 5})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let res = call(
        s,
        Method::POST,
        "/api/v1/checkins",
        &b,
        Some(json!({"mood": 11, "stress": 0, "energy": 5})),
    )
    .await;
    assert_eq!(problem(res).await.2["errors"].as_array().unwrap().len(), 2);
    let list = json_of(
        call(s, Method::GET, "/api/v1/checkins", &b, None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        2,
        "the partner's too"
    );
    let today = again["date"].as_str().unwrap();
    let ranged = json_of(
        call(
            s,
            Method::GET,
            &format!("/api/v1/checkins?from={today}&to={today}"),
            &a,
            None,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ranged["items"].as_array().unwrap().len(), 2);
    let none = json_of(
        call(s, Method::GET, "/api/v1/checkins?to=2000-01-01", &a, None).await,
        StatusCode::OK,
    )
    .await;
    assert!(none["items"].as_array().unwrap().is_empty());
    let cid = again["id"].as_str().unwrap().to_owned();
    let res = call(
        s,
        Method::DELETE,
        &format!("/api/v1/checkins/{cid}"),
        &b,
        None,
    )
    .await;
    assert_eq!(problem(res).await.1, "not_found", "not B's to delete");

    // Letters: one per couple per month; posting again updates it.
    let l1 = json_of(
        call(
            s,
            Method::POST,
            "/api/v1/letters",
            &a,
            Some(json!({"month": "2026-11", "content": "Mon amour"})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let l2 = json_of(
        call(
            s,
            Method::POST,
            "/api/v1/letters",
            &b,
            Some(json!({"month": "2026-11", "content": "Mon amour, encore"})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(l1["id"], l2["id"]);
    json_of(
        call(
            s,
            Method::POST,
            "/api/v1/letters",
            &a,
            Some(json!({"month": "2026-10", "content": "Octobre"})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let letters = json_of(
        call(s, Method::GET, "/api/v1/letters", &b, None).await,
        StatusCode::OK,
    )
    .await;
    let months: Vec<&str> = letters["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["month"].as_str().unwrap())
        .collect();
    assert_eq!(months, vec!["2026-11", "2026-10"]);
    let nov = json_of(
        call(s, Method::GET, "/api/v1/letters?month=2026-11", &b, None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(nov["items"][0]["content"], "Mon amour, encore");
    let res = call(
        s,
        Method::POST,
        "/api/v1/letters",
        &a,
        Some(json!({"month": "2026-13", "content": "x"})),
    )
    .await;
    assert_eq!(problem(res).await.2["errors"][0]["code"], "invalid_month");

    // Deleting the goal takes its action with it; the feed says so.
    let res = call(s, Method::DELETE, &format!("/api/v1/goals/{gid}"), &b, None).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let (got, _) = feed_after(s, &b, &cursor).await;
    let got: Vec<(&str, &str)> = got.iter().map(|(k, o)| (k.as_str(), o.as_str())).collect();
    assert_eq!(
        got,
        vec![
            ("goal", "upsert"),
            ("goal_action", "upsert"),
            ("goal", "upsert"),
            ("goal_action", "upsert"),
            ("goal", "upsert"),
            ("goal", "upsert"),
            ("goal", "upsert"),
            ("checkin", "upsert"),
            ("checkin", "upsert"),
            ("checkin", "upsert"),
            ("letter", "upsert"),
            ("letter", "upsert"),
            ("letter", "upsert"),
            ("goal_action", "delete"),
            ("goal", "delete"),
        ]
    );

    // Another couple reaches none of it.
    let (z, _) = paired(s, "gz@example.org", "gy@example.org").await;
    let letter_id = l1["id"].as_str().unwrap();
    for (m, path) in [
        (Method::GET, format!("/api/v1/goals/{gid}")),
        (Method::GET, format!("/api/v1/goals/{gid}/actions")),
        (Method::GET, format!("/api/v1/checkins/{cid}")),
        (Method::DELETE, format!("/api/v1/checkins/{cid}")),
        (Method::GET, format!("/api/v1/letters/{letter_id}")),
    ] {
        let res = call(s, m.clone(), &path, &z, None).await;
        assert_eq!(problem(res).await.1, "not_found", "{m} {path}");
    }
    let theirs = json_of(
        call(s, Method::GET, "/api/v1/letters", &z, None).await,
        StatusCode::OK,
    )
    .await;
    assert!(theirs["items"].as_array().unwrap().is_empty());
    let export = json_of(
        call(s, Method::GET, "/api/v1/couple/export", &a, None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (
            export["checkins"].as_array().unwrap().len(),
            export["letters"].as_array().unwrap().len()
        ),
        (2, 2)
    );
}

on_both_backends!(content_flow => goals_checkins_and_letters_on_sqlite, goals_checkins_and_letters_on_postgres);

/// Every couple-scoped operation, with `{q}`, `{g}`, `{a}`, `{c}`, `{l}` for a question, goal,
/// action, check-in and letter id, and a body that would be valid.
fn every_couple_operation() -> Vec<(Method, &'static str, Option<Value>)> {
    vec![
        (Method::GET, "/api/v1/couple", None),
        (Method::GET, "/api/v1/couple/profile", None),
        (
            Method::PATCH,
            "/api/v1/couple/profile",
            Some(json!({"home_message": "hi"})),
        ),
        (Method::GET, "/api/v1/couple/together", None),
        (Method::GET, "/api/v1/couple/milestones", None),
        (Method::POST, "/api/v1/couple/invite", None),
        (Method::POST, "/api/v1/couple/leave", None),
        (Method::GET, "/api/v1/couple/export", None),
        (Method::GET, "/api/v1/qna/questions", None),
        (
            Method::POST,
            "/api/v1/qna/questions",
            Some(json!({"text": "x?"})),
        ),
        (Method::GET, "/api/v1/qna/questions/{q}", None),
        (
            Method::PATCH,
            "/api/v1/qna/questions/{q}",
            Some(json!({"text": "y?"})),
        ),
        (Method::DELETE, "/api/v1/qna/questions/{q}", None),
        (
            Method::POST,
            "/api/v1/qna/questions/{q}/answers",
            Some(json!({"status": "ANSWERED", "text": "z"})),
        ),
        (Method::GET, "/api/v1/goals", None),
        (Method::POST, "/api/v1/goals", Some(json!({"title": "t"}))),
        (Method::GET, "/api/v1/goals/{g}", None),
        (
            Method::PATCH,
            "/api/v1/goals/{g}",
            Some(json!({"title": "u"})),
        ),
        (Method::DELETE, "/api/v1/goals/{g}", None),
        (Method::GET, "/api/v1/goals/{g}/actions", None),
        (
            Method::POST,
            "/api/v1/goals/{g}/actions",
            Some(json!({"title": "a"})),
        ),
        (
            Method::PATCH,
            "/api/v1/goals/{g}/actions/{a}",
            Some(json!({"done": true})),
        ),
        (Method::DELETE, "/api/v1/goals/{g}/actions/{a}", None),
        (Method::GET, "/api/v1/checkins", None),
        (
            Method::POST,
            "/api/v1/checkins",
            Some(json!({"mood": 5, "stress": 5, "energy": 5})),
        ),
        (Method::GET, "/api/v1/checkins/trends", None),
        (Method::GET, "/api/v1/checkins/{c}", None),
        (
            Method::PATCH,
            "/api/v1/checkins/{c}",
            Some(json!({"mood": 6})),
        ),
        (Method::DELETE, "/api/v1/checkins/{c}", None),
        (Method::GET, "/api/v1/letters", None),
        (
            Method::POST,
            "/api/v1/letters",
            Some(json!({"month": "2026-11", "content": "c"})),
        ),
        (Method::GET, "/api/v1/letters/{l}", None),
        (
            Method::PATCH,
            "/api/v1/letters/{l}",
            Some(json!({"content": "d"})),
        ),
        (Method::DELETE, "/api/v1/letters/{l}", None),
        (Method::GET, "/api/v1/sync/changes", None),
        (Method::GET, "/api/v1/perspectives", None),
        (Method::GET, "/api/v1/perspectives/1", None),
        (
            Method::PUT,
            "/api/v1/perspectives/1",
            Some(json!({"content": "p"})),
        ),
        (
            Method::POST,
            "/api/v1/perspectives",
            Some(json!({"number": 1, "content": "p"})),
        ),
        (Method::POST, "/api/v1/memories/photo-urls/rotate", None),
    ]
}

#[tokio::test]
async fn every_couple_endpoint_is_scoped() {
    let s = TestServer::start().await;
    let (a, _) = paired(&s, "ia@example.org", "ib@example.org").await;
    let id = |v: Value| v["id"].as_str().unwrap().to_owned();
    let q = id(json_of(
        call(
            &s,
            Method::POST,
            "/api/v1/qna/questions",
            &a,
            Some(json!({"text": "Q?"})),
        )
        .await,
        StatusCode::CREATED,
    )
    .await);
    let g = id(json_of(
        call(
            &s,
            Method::POST,
            "/api/v1/goals",
            &a,
            Some(json!({"title": "G"})),
        )
        .await,
        StatusCode::CREATED,
    )
    .await);
    let act = id(json_of(
        call(
            &s,
            Method::POST,
            &format!("/api/v1/goals/{g}/actions"),
            &a,
            Some(json!({"title": "A"})),
        )
        .await,
        StatusCode::CREATED,
    )
    .await);
    let c = id(json_of(
        call(
            &s,
            Method::POST,
            "/api/v1/checkins",
            &a,
            Some(json!({"mood": 5, "stress": 5, "energy": 5})),
        )
        .await,
        StatusCode::OK,
    )
    .await);
    let l = id(json_of(
        call(
            &s,
            Method::POST,
            "/api/v1/letters",
            &a,
            Some(json!({"month": "2026-11", "content": "L"})),
        )
        .await,
        StatusCode::OK,
    )
    .await);
    let fill = |p: &str| {
        p.replace("{q}", &q)
            .replace("{g}", &g)
            .replace("{a}", &act)
            .replace("{c}", &c)
            .replace("{l}", &l)
    };

    // A user in no couple gets `not_in_couple` everywhere.
    let loner = user(&s, "loner@example.org").await;
    for (m, path, body) in every_couple_operation() {
        let res = call(&s, m.clone(), &fill(path), &loner, body).await;
        let (status, code, _) = problem(res).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::NOT_FOUND, "not_in_couple"),
            "{m} {path}"
        );
    }

    // Another couple gets 404 for every object of the first.
    let (z, _) = paired(&s, "iz@example.org", "iy@example.org").await;
    for (m, path, body) in every_couple_operation()
        .into_iter()
        .filter(|(_, p, _)| p.contains('{'))
    {
        let res = call(&s, m.clone(), &fill(path), &z, body).await;
        let (status, code, _) = problem(res).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::NOT_FOUND, "not_found"),
            "{m} {path}"
        );
    }
    // And the first couple's objects are all still there.
    for path in [
        "/api/v1/qna/questions/{q}",
        "/api/v1/goals/{g}",
        "/api/v1/checkins/{c}",
        "/api/v1/letters/{l}",
    ] {
        json_of(
            call(&s, Method::GET, &fill(path), &a, None).await,
            StatusCode::OK,
        )
        .await;
    }
    s.stop().await;
}

#[tokio::test]
async fn profile_and_together_counter() {
    let s = TestServer::start().await;
    let (a, b) = paired(&s, "pa@example.org", "pb@example.org").await;
    let res = call(&s, Method::GET, "/api/v1/couple/together", &a, None).await;
    assert_eq!(problem(res).await.1, "start_date_not_set");
    let profile = json_of(
        call(&s, Method::PATCH, "/api/v1/couple/profile", &a, Some(json!({"start_date": "2023-11-10", "home_message": "Toi et moi", "time_zone": "Europe/Paris"}))).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(profile["start_date"], "2023-11-10");
    let seen = json_of(
        call(&s, Method::GET, "/api/v1/couple/profile", &b, None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(seen["home_message"], "Toi et moi", "both partners share it");
    let t = json_of(
        call(&s, Method::GET, "/api/v1/couple/together", &b, None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(t["since"], "2023-11-10");
    assert_eq!(t["time_zone"], "Europe/Paris");
    assert!(
        t["years"].as_u64().unwrap() >= 3 && t["total_days"].as_i64().unwrap() > 1000,
        "{t}"
    );
    assert!(t["months"].as_u64().unwrap() < 12 && t["hours"].as_u64().unwrap() < 24);
    let res = call(
        &s,
        Method::PATCH,
        "/api/v1/couple/profile",
        &a,
        Some(json!({"time_zone": "Mars/Olympus"})),
    )
    .await;
    assert_eq!(
        problem(res).await.2["errors"][0]["code"],
        "unknown_time_zone"
    );
    let cleared = json_of(
        call(
            &s,
            Method::PATCH,
            "/api/v1/couple/profile",
            &b,
            Some(json!({"home_message": null})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert!(cleared["home_message"].is_null() && cleared["start_date"] == "2023-11-10");
    s.stop().await;
}

#[tokio::test]
async fn perspectives_one_per_partner() {
    let s = TestServer::start().await;
    let (a, b) = paired(&s, "va@example.org", "vb@example.org").await;
    let empty = json_of(
        call(&s, Method::GET, "/api/v1/perspectives", &a, None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        empty,
        json!([{"number": 1, "content": null, "author_id": null, "updated_at": null}, {"number": 2, "content": null, "author_id": null, "updated_at": null}])
    );
    json_of(
        call(
            &s,
            Method::PUT,
            "/api/v1/perspectives/1",
            &a,
            Some(json!({"content": "Notre avenir"})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let res = call(
        &s,
        Method::PUT,
        "/api/v1/perspectives/1",
        &b,
        Some(json!({"content": "pas le mien"})),
    )
    .await;
    assert_eq!(problem(res).await.1, "not_your_perspective");
    json_of(
        call(
            &s,
            Method::PUT,
            "/api/v1/perspectives/2",
            &b,
            Some(json!({"content": "Le mien"})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let one = json_of(
        call(&s, Method::GET, "/api/v1/perspectives/1", &b, None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(one["content"], "Notre avenir");
    let res = call(&s, Method::GET, "/api/v1/perspectives/3", &b, None).await;
    assert_eq!(problem(res).await.1, "not_found");
    // Another couple sees its own empty slots, never these.
    let (z, _) = paired(&s, "vz@example.org", "vy@example.org").await;
    let theirs = json_of(
        call(&s, Method::GET, "/api/v1/perspectives/1", &z, None).await,
        StatusCode::OK,
    )
    .await;
    assert!(theirs["content"].is_null());
    s.stop().await;
}
