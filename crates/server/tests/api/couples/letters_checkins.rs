//! End to end: time-locked letters (sealed for the partner through one, the list, the feed and
//! both exports until their day, then open; patched and deleted by either partner, each in the
//! feed) and check-ins (back-dated, edited, averaged per week; dates out of range refused).
//!
//! The server runs on the system clock, which a test cannot move (see `common`). The day a
//! letter opens is the recipient's *local* day, so these tests move the recipient's calendar
//! instead of the clock: the author lives in Pacific/Kiritimati (UTC+14), the recipient in
//! Pacific/Pago_Pago (UTC-11), whose calendar is always one or two days behind; a letter for
//! the author's today is sealed for the recipient until the recipient moves to Kiritimati,
//! where that day has begun. (The domain tests check the instant itself, across changes of
//! daylight saving time; the app tests drive a manual clock.)

use accueil_domain::couples::{local_day, week_start};
use accueil_domain::identity::TimeZone;
use chrono::{Duration, NaiveDate, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{TestServer, call, feed_after, json_of, paired, problem, user_id};

/// Today in `zone`, as the server computes it.
fn today_in(zone: &str) -> NaiveDate {
    local_day(Utc::now(), Some(&TimeZone::parse(zone).unwrap()))
}

async fn set_zone(s: &TestServer, token: &str, zone: &str) {
    json_of(
        call(
            s,
            Method::PATCH,
            "/api/v1/users/me",
            token,
            Some(json!({"time_zone": zone})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
}

async fn cursor(s: &TestServer, token: &str) -> String {
    let feed = json_of(
        call(s, Method::GET, "/api/v1/sync/changes?cursor=0", token, None).await,
        StatusCode::OK,
    )
    .await;
    feed["next_cursor"].as_str().unwrap().to_owned()
}

async fn get(s: &TestServer, token: &str, path: &str) -> Value {
    json_of(
        call(s, Method::GET, path, token, None).await,
        StatusCode::OK,
    )
    .await
}

/// The first error's (field, code) of a 422.
async fn field_error(res: reqwest::Response) -> (String, String) {
    let (status, code, body) = problem(res).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
        "{body}"
    );
    let e = &body["errors"][0];
    (
        e["field"].as_str().unwrap().to_owned(),
        e["code"].as_str().unwrap().to_owned(),
    )
}

const SECRET: &str = "Rendez-vous sous l'horloge";

async fn sealed_letters(s: &TestServer) {
    let (a, b) = paired(s, "la@example.org", "lb@example.org").await;
    let (a_id, b_id) = (user_id(s, &a).await, user_id(s, &b).await);
    set_zone(s, &a, "Pacific/Kiritimati").await;
    set_zone(s, &b, "Pacific/Pago_Pago").await;
    let start = cursor(s, &a).await;
    let today = today_in("Pacific/Kiritimati");
    assert!(today > today_in("Pacific/Pago_Pago"));

    // Delivery days: from the writer's today to five years ahead.
    for (day, code) in [
        (today - Duration::days(1), "in_past"),
        (today + Duration::days(5 * 366), "too_far"),
    ] {
        let res = call(
            s,
            Method::POST,
            "/api/v1/letters",
            &a,
            Some(json!({"month": "2027-01", "content": SECRET, "deliver_on": day})),
        )
        .await;
        assert_eq!(
            field_error(res).await,
            ("deliver_on".to_owned(), code.to_owned())
        );
    }
    let mine = json_of(
        call(
            s,
            Method::POST,
            "/api/v1/letters",
            &a,
            Some(json!({"month": "2027-01", "content": SECRET, "deliver_on": today})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let id = mine["id"].as_str().unwrap().to_owned();
    assert_eq!(mine["content"], SECRET, "the author sees it");
    assert_eq!(
        (&mine["sealed"], &mine["sealed_by_id"], &mine["deliver_on"]),
        (&json!(false), &json!(a_id), &json!(today))
    );

    // Sealed for B everywhere: one, the list, the month, the feed, the couple and personal exports.
    let path = format!("/api/v1/letters/{id}");
    let sealed = |v: &Value| {
        assert_eq!(v["id"], id.as_str(), "{v}");
        assert_eq!(v["sealed"], true, "{v}");
        assert!(v["content"].is_null(), "{v}");
        assert_eq!(v["month"], "2027-01");
        assert_eq!(v["deliver_on"], json!(today));
        assert_eq!(v["sealed_by_id"], a_id.as_str());
        assert_eq!(v["last_author_id"], a_id.as_str());
        assert!(v["created_at"].is_string() && v["updated_at"].is_string());
    };
    sealed(&get(s, &b, &path).await);
    sealed(&get(s, &b, "/api/v1/letters").await["items"][0]);
    sealed(&get(s, &b, "/api/v1/letters?month=2027-01").await["items"][0]);
    let (entries, feed) = feed_after(s, &b, &start).await;
    let letter_entries: Vec<_> = entries.iter().filter(|(t, ..)| t == "letter").collect();
    assert_eq!(letter_entries.len(), 1);
    assert_eq!(
        (letter_entries[0].1.as_str(), letter_entries[0].2.as_str()),
        (id.as_str(), "upsert")
    );
    assert!(!feed.to_string().contains(SECRET));
    let export = get(s, &b, "/api/v1/couple/export").await;
    sealed(&export["letters"][0]);
    assert!(!export.to_string().contains(SECRET), "{export}");
    let personal = get(s, &b, "/api/v1/users/me/export").await;
    assert!(!personal.to_string().contains(SECRET));
    assert!(
        get(s, &a, "/api/v1/couple/export")
            .await
            .to_string()
            .contains(SECRET),
        "the author's export has it"
    );

    // Nor may B overwrite, change or delete it meanwhile.
    for (m, p, body) in [
        (
            Method::POST,
            "/api/v1/letters".to_owned(),
            Some(json!({"month": "2027-01", "content": "Moi d'abord"})),
        ),
        (Method::PATCH, path.clone(), Some(json!({"content": "x"}))),
        (
            Method::PATCH,
            path.clone(),
            Some(json!({"deliver_on": null})),
        ),
        (Method::DELETE, path.clone(), None),
    ] {
        let res = call(s, m.clone(), &p, &b, body).await;
        let (status, code, _) = problem(res).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::CONFLICT, "letter_sealed"),
            "{m} {p}"
        );
    }
    assert_eq!(get(s, &a, &path).await["content"], SECRET, "untouched");

    // B's day comes: in Kiritimati it has begun. Open for B through every read.
    set_zone(s, &b, "Pacific/Kiritimati").await;
    let open = get(s, &b, &path).await;
    assert_eq!(
        (&open["sealed"], &open["content"]),
        (&json!(false), &json!(SECRET))
    );
    assert_eq!(
        get(s, &b, "/api/v1/letters").await["items"][0]["content"],
        SECRET
    );
    assert_eq!(
        get(s, &b, "/api/v1/couple/export").await["letters"][0]["content"],
        SECRET
    );

    // Open: either partner changes it, and B deletes it; each change is in the feed.
    let mid = cursor(s, &a).await;
    let patched = json_of(
        call(
            s,
            Method::PATCH,
            &path,
            &b,
            Some(json!({"content": "Merci"})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (
            &patched["content"],
            &patched["last_author_id"],
            &patched["sealed_by_id"]
        ),
        (&json!("Merci"), &json!(b_id), &json!(a_id))
    );
    let unlocked = json_of(
        call(
            s,
            Method::PATCH,
            &path,
            &a,
            Some(json!({"deliver_on": null})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert!(unlocked["deliver_on"].is_null() && unlocked["sealed_by_id"].is_null());
    assert_eq!(unlocked["content"], "Merci", "content kept");
    let res = call(s, Method::PATCH, &path, &a, Some(json!({"content": " "}))).await;
    assert_eq!(
        field_error(res).await,
        ("content".to_owned(), "required".to_owned())
    );
    let res = call(
        s,
        Method::PATCH,
        &path,
        &a,
        Some(json!({"deliver_on": "2001-01-01"})),
    )
    .await;
    assert_eq!(
        field_error(res).await,
        ("deliver_on".to_owned(), "in_past".to_owned())
    );

    // Another couple reaches none of it.
    let (z, _) = paired(s, "lz@example.org", "ly@example.org").await;
    for (m, body) in [
        (Method::GET, None),
        (Method::PATCH, Some(json!({"content": "à moi"}))),
        (Method::DELETE, None),
    ] {
        let res = call(s, m.clone(), &path, &z, body).await;
        assert_eq!(problem(res).await.1, "not_found", "{m}");
    }

    json_of(
        call(s, Method::DELETE, &path, &b, None).await,
        StatusCode::NO_CONTENT,
    )
    .await;
    let res = call(s, Method::GET, &path, &a, None).await;
    assert_eq!(problem(res).await.1, "not_found");
    let (entries, _) = feed_after(s, &a, &mid).await;
    let got: Vec<(&str, &str, &str)> = entries
        .iter()
        .map(|(t, i, o)| (t.as_str(), i.as_str(), o.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("letter", id.as_str(), "upsert"),
            ("letter", id.as_str(), "upsert"),
            ("letter", id.as_str(), "delete"),
        ],
        "refused writes leave no entry"
    );
}

on_both_backends!(sealed_letters => sealed_letters_on_sqlite, sealed_letters_on_postgres);

async fn checkins(s: &TestServer) {
    let (a, b) = paired(s, "ca@example.org", "cb@example.org").await;
    let (a_id, b_id) = (user_id(s, &a).await, user_id(s, &b).await);
    let start = cursor(s, &a).await;
    let post = |token: &str, body: Value| {
        let token = token.to_owned();
        async move { call(s, Method::POST, "/api/v1/checkins", &token, Some(body)).await }
    };
    let today = json_of(
        post(&a, json!({"mood": 6, "stress": 4, "energy": 7})).await,
        StatusCode::OK,
    )
    .await;
    // Nobody has a time zone: the day is UTC's.
    let t: NaiveDate = today["date"].as_str().unwrap().parse().unwrap();
    assert_eq!(t, today_in("UTC"));
    let yesterday = json_of(
        post(
            &a,
            json!({"mood": 8, "stress": 3, "energy": 6, "note": "oublié hier", "date": t - Duration::days(1)}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(yesterday["date"], json!(t - Duration::days(1)));
    assert_ne!(yesterday["id"], today["id"]);
    let week_ago = json_of(
        post(
            &a,
            json!({"mood": 2, "stress": 9, "energy": 3, "date": t - Duration::days(7)}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    for (day, code) in [
        (t + Duration::days(1), "in_future"),
        (t - Duration::days(8), "too_old"),
    ] {
        let res = post(
            &a,
            json!({"mood": 5, "stress": 5, "energy": 5, "date": day}),
        )
        .await;
        assert_eq!(field_error(res).await, ("date".to_owned(), code.to_owned()));
    }
    // The same day again updates it.
    let again = json_of(
        post(
            &a,
            json!({"mood": 7, "stress": 3, "energy": 6, "date": t - Duration::days(1)}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (&again["id"], &again["mood"]),
        (&yesterday["id"], &json!(7))
    );

    // Editing one's own; the partner's is not found, as is another couple's.
    let yid = yesterday["id"].as_str().unwrap();
    let path = format!("/api/v1/checkins/{yid}");
    let edited = json_of(
        call(
            s,
            Method::PATCH,
            &path,
            &a,
            Some(json!({"mood": 9, "note": "mieux"})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (
            &edited["mood"],
            &edited["stress"],
            &edited["note"],
            &edited["date"]
        ),
        (
            &json!(9),
            &json!(3),
            &json!("mieux"),
            &json!(t - Duration::days(1))
        )
    );
    let cleared = json_of(
        call(s, Method::PATCH, &path, &a, Some(json!({"note": null}))).await,
        StatusCode::OK,
    )
    .await;
    assert!(cleared["note"].is_null() && cleared["mood"] == 9);
    let res = call(
        s,
        Method::PATCH,
        &path,
        &a,
        Some(json!({"mood": 0, "energy": 11})),
    )
    .await;
    assert_eq!(problem(res).await.2["errors"].as_array().unwrap().len(), 2);
    let res = call(s, Method::PATCH, &path, &b, Some(json!({"mood": 1}))).await;
    assert_eq!(problem(res).await.1, "not_found", "not B's to edit");
    let (z, _) = paired(s, "cz@example.org", "cy@example.org").await;
    let res = call(s, Method::PATCH, &path, &z, Some(json!({"mood": 1}))).await;
    assert_eq!(problem(res).await.1, "not_found");
    assert_eq!(get(s, &b, &path).await["mood"], 9, "B still reads it");

    json_of(
        post(&b, json!({"mood": 5, "stress": 6, "energy": 4})).await,
        StatusCode::OK,
    )
    .await;

    // Trends: two ISO weeks, the current one last; A's three days and B's one fall in them.
    let trends = get(s, &a, "/api/v1/checkins/trends?weeks=2").await;
    assert!(trends["time_zone"].is_null());
    let partners = trends["partners"].as_array().unwrap();
    assert_eq!(partners.len(), 2);
    assert_eq!(
        (&partners[0]["user_id"], &partners[1]["user_id"]),
        (&json!(a_id), &json!(b_id))
    );
    let monday = week_start(t);
    for p in partners {
        let weeks = p["weeks"].as_array().unwrap();
        assert_eq!(weeks.len(), 2);
        assert_eq!(weeks[1]["week_start"], json!(monday));
        assert_eq!(weeks[0]["week_start"], json!(monday - Duration::days(7)));
        let iso = chrono::Datelike::iso_week(&monday);
        assert_eq!(
            weeks[1]["week"],
            format!("{}-W{:02}", iso.year(), iso.week())
        );
    }
    let count = |p: &Value| -> u64 {
        p["weeks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["count"].as_u64().unwrap())
            .sum()
    };
    assert_eq!((count(&partners[0]), count(&partners[1])), (3, 1));
    // A's days by week: today (mood 6), yesterday (9), a week ago (2).
    let a_days = [
        (t, 6.0),
        (t - Duration::days(1), 9.0),
        (t - Duration::days(7), 2.0),
    ];
    for (i, w) in partners[0]["weeks"].as_array().unwrap().iter().enumerate() {
        let start = monday - Duration::days(7 * (1 - i as i64));
        let moods: Vec<f64> = a_days
            .iter()
            .filter(|(d, _)| week_start(*d) == start)
            .map(|(_, m)| *m)
            .collect();
        assert_eq!(w["count"], moods.len(), "{w}");
        if moods.is_empty() {
            assert!(w["mood"].is_null() && w["stress"].is_null() && w["energy"].is_null());
        } else {
            let mean = moods.iter().sum::<f64>() / moods.len() as f64;
            assert!((w["mood"].as_f64().unwrap() - mean).abs() < 1e-9, "{w}");
        }
    }
    // B has only today: last week is empty, with null means.
    let b_last = &partners[1]["weeks"][0];
    assert_eq!(b_last["count"], 0);
    assert!(b_last["mood"].is_null() && b_last["energy"].is_null());
    assert_eq!(partners[1]["weeks"][1]["stress"], 6.0);
    let default = get(s, &b, "/api/v1/checkins/trends").await;
    assert_eq!(default["partners"][0]["weeks"].as_array().unwrap().len(), 4);
    for bad in ["0", "53"] {
        let res = call(
            s,
            Method::GET,
            &format!("/api/v1/checkins/trends?weeks={bad}"),
            &a,
            None,
        )
        .await;
        assert_eq!(
            field_error(res).await,
            ("weeks".to_owned(), "out_of_range".to_owned())
        );
    }
    let res = call(
        s,
        Method::GET,
        "/api/v1/checkins/trends?weeks=two",
        &a,
        None,
    )
    .await;
    assert_eq!(problem(res).await.1, "invalid_query");
    let theirs = get(s, &z, "/api/v1/checkins/trends?weeks=1").await;
    assert_eq!(
        count(&theirs["partners"][0]),
        0,
        "another couple's trends are theirs"
    );

    // The feed: every write once, the edit as an upsert.
    let (entries, _) = feed_after(s, &a, &start).await;
    let kinds: Vec<(&str, &str)> = entries
        .iter()
        .filter(|(t, ..)| t == "checkin")
        .map(|(_, i, o)| (i.as_str(), o.as_str()))
        .collect();
    assert_eq!(kinds.len(), 7, "{kinds:?}");
    assert_eq!(kinds[2], (week_ago["id"].as_str().unwrap(), "upsert"));
    assert!(kinds[3..6].iter().all(|(i, o)| *i == yid && *o == "upsert"));
}

on_both_backends!(checkins => checkins_back_dated_edited_and_trends_on_sqlite, checkins_back_dated_edited_and_trends_on_postgres);

#[tokio::test]
async fn a_checkin_defaults_to_the_couples_day_without_a_zone_of_ones_own() {
    let s = TestServer::start().await;
    let (a, _) = paired(&s, "da@example.org", "db@example.org").await;
    json_of(
        call(
            &s,
            Method::PATCH,
            "/api/v1/couple/profile",
            &a,
            Some(json!({"time_zone": "Pacific/Kiritimati"})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let c = json_of(
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
    .await;
    assert_eq!(c["date"], json!(today_in("Pacific/Kiritimati")));
    let trends = get(&s, &a, "/api/v1/checkins/trends?weeks=1").await;
    assert_eq!(trends["time_zone"], "Pacific/Kiritimati");
    assert_eq!(
        trends["partners"][0]["weeks"][0]["week_start"],
        json!(week_start(today_in("Pacific/Kiritimati")))
    );
    s.stop().await;
}
