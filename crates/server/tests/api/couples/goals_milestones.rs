//! End to end: goals with action counts and their actions page by page (a paused goal may be
//! completed), and the couple's milestones from its start date.

use chrono::{Datelike, Duration, NaiveDate, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{TestServer, call, json_of, paired, problem};

async fn get(s: &TestServer, token: &str, path: &str) -> Value {
    json_of(
        call(s, Method::GET, path, token, None).await,
        StatusCode::OK,
    )
    .await
}

async fn goals_flow(s: &TestServer) {
    let (a, b) = paired(s, "ga@example.org", "gb@example.org").await;
    let goal = json_of(
        call(
            s,
            Method::POST,
            "/api/v1/goals",
            &a,
            Some(json!({"title": "Learn Portuguese"})),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(goal["actions"], json!({"total": 0, "done": 0}), "{goal}");
    let gid = goal["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/goals/{gid}");

    // PAUSED → DONE, as the seed allowed; DONE → PAUSED stays refused.
    let status = |to: &'static str| {
        let (s, a, path) = (s, a.clone(), path.clone());
        async move { call(s, Method::PATCH, &path, &a, Some(json!({"status": to}))).await }
    };
    let paused = json_of(status("PAUSED").await, StatusCode::OK).await;
    assert!(paused["completed_at"].is_null());
    let done = json_of(status("DONE").await, StatusCode::OK).await;
    assert_eq!(done["status"], "DONE");
    assert!(done["completed_at"].is_string());
    let (code_status, code, _) = problem(status("PAUSED").await).await;
    assert_eq!(
        (code_status, code.as_str()),
        (StatusCode::CONFLICT, "invalid_transition")
    );
    json_of(status("ACTIVE").await, StatusCode::OK).await;

    // Five actions, two of them done: the goal says so in every answer, without the actions.
    let mut ids = Vec::new();
    for i in 0..5 {
        let made = json_of(
            call(
                s,
                Method::POST,
                &format!("{path}/actions"),
                &b,
                Some(json!({"title": format!("Step {i}")})),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        ids.push(made["id"].as_str().unwrap().to_owned());
    }
    for id in [&ids[1], &ids[3]] {
        json_of(
            call(
                s,
                Method::PATCH,
                &format!("{path}/actions/{id}"),
                &a,
                Some(json!({"done": true})),
            )
            .await,
            StatusCode::OK,
        )
        .await;
    }
    let counts = json!({"total": 5, "done": 2});
    assert_eq!(get(s, &b, &path).await["actions"], counts);
    let other = json_of(
        call(
            s,
            Method::POST,
            "/api/v1/goals",
            &a,
            Some(json!({"title": "Move house"})),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let list = get(s, &a, "/api/v1/goals").await;
    let listed: Vec<(&str, &Value)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["id"].as_str().unwrap(), &g["actions"]))
        .collect();
    assert_eq!(
        listed,
        vec![
            (
                other["id"].as_str().unwrap(),
                &json!({"total": 0, "done": 0})
            ),
            (gid.as_str(), &counts),
        ]
    );
    let patched = json_of(
        call(
            s,
            Method::PATCH,
            &path,
            &b,
            Some(json!({"title": "Learn Portuguese well"})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(patched["actions"], counts);

    // The actions, two by two, oldest first.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}/actions?limit=2&cursor={c}"),
            None => format!("{path}/actions?limit=2"),
        };
        let page = get(s, &a, &url).await;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|x| x["id"].as_str().unwrap().to_owned()));
        pages += 1;
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, ids, "every action once, oldest first");
    let all = get(s, &a, &format!("{path}/actions")).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 5);
    assert!(all["next_cursor"].is_null());
    assert_eq!(all["items"][1]["done"], true);
    let one = get(s, &a, &format!("{path}/actions?limit=0")).await;
    assert_eq!(one["items"].as_array().unwrap().len(), 1, "0 is read as 1");
    let (st, code, _) = problem(
        call(
            s,
            Method::GET,
            &format!("{path}/actions?cursor=nope"),
            &a,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(
        (st, code.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_cursor")
    );

    // Deleting an action moves the counts.
    json_of(
        call(
            s,
            Method::DELETE,
            &format!("{path}/actions/{}", ids[3]),
            &b,
            None,
        )
        .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    assert_eq!(
        get(s, &a, &path).await["actions"],
        json!({"total": 4, "done": 1})
    );

    // The export keeps every action.
    let export = get(s, &a, "/api/v1/couple/export").await;
    let exported = export["goals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == gid.as_str())
        .unwrap()
        .clone();
    assert_eq!(exported["actions"].as_array().unwrap().len(), 4);

    // Another couple reaches none of it.
    let (z, _) = paired(s, "gz@example.org", "gy@example.org").await;
    let (st, _, _) =
        problem(call(s, Method::GET, &format!("{path}/actions"), &z, None).await).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

on_both_backends!(goals_flow => goals_pages_and_counts_on_sqlite, goals_pages_and_counts_on_postgres);

/// Sets the couple's start date.
async fn start_on(s: &TestServer, token: &str, day: NaiveDate) {
    json_of(
        call(
            s,
            Method::PATCH,
            "/api/v1/couple/profile",
            token,
            Some(json!({"start_date": day.to_string()})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
}

async fn milestones_flow(s: &TestServer) {
    let (a, _) = paired(s, "ma@example.org", "mb@example.org").await;
    let (st, code, _) =
        problem(call(s, Method::GET, "/api/v1/couple/milestones", &a, None).await).await;
    assert_eq!(
        (st, code.as_str()),
        (StatusCode::CONFLICT, "start_date_not_set")
    );

    // 99 days ago (UTC, the couple has no time zone): the 100th day is tomorrow. The server
    // runs on the system clock, so the test reads the same clock, and reads again if a
    // midnight passed meanwhile.
    let m = loop {
        let today = Utc::now().date_naive();
        start_on(s, &a, today - Duration::days(99)).await;
        let m = get(s, &a, "/api/v1/couple/milestones?limit=3").await;
        if Utc::now().date_naive() == today {
            break m;
        }
    };
    let today: NaiveDate = m["today"].as_str().unwrap().parse().unwrap();
    assert_eq!(m["time_zone"], "UTC");
    assert_eq!(m["days_together"], 99);
    assert_eq!(m["started"], true);
    assert_eq!(m["since"], (today - Duration::days(99)).to_string());
    let upcoming = m["upcoming"].as_array().unwrap();
    assert_eq!(upcoming.len(), 3);
    assert_eq!(
        upcoming[0],
        json!({"kind": "days", "number": 100, "date": (today + Duration::days(1)).to_string(), "days_remaining": 1})
    );
    assert_eq!(upcoming[1]["number"], 200);
    assert_eq!(upcoming[1]["days_remaining"], 101);
    assert_eq!(upcoming[2]["number"], 300);

    // A start on 29 February: anniversaries on 28 February in other years, and the limit's
    // bounds.
    start_on(s, &a, NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()).await;
    let m = get(s, &a, "/api/v1/couple/milestones?limit=1000").await;
    let upcoming = m["upcoming"].as_array().unwrap();
    assert_eq!(upcoming.len(), 50, "at most 50");
    let years: Vec<&Value> = upcoming
        .iter()
        .filter(|x| x["kind"] == "anniversary")
        .collect();
    assert!(years.len() >= 3, "{m}");
    for y in years {
        let date: NaiveDate = y["date"].as_str().unwrap().parse().unwrap();
        let leap = NaiveDate::from_ymd_opt(date.year(), 2, 29).is_some();
        assert_eq!(
            (date.month(), date.day()),
            (2, if leap { 29 } else { 28 }),
            "{y}"
        );
        assert_eq!(y["number"], date.year() - 2024);
    }
    let dates: Vec<&str> = upcoming
        .iter()
        .map(|x| x["date"].as_str().unwrap())
        .collect();
    assert!(dates.windows(2).all(|w| w[0] <= w[1]), "soonest first");
    let one = get(s, &a, "/api/v1/couple/milestones?limit=0").await;
    assert_eq!(one["upcoming"].as_array().unwrap().len(), 1);
    let ten = get(s, &a, "/api/v1/couple/milestones").await;
    assert_eq!(
        ten["upcoming"].as_array().unwrap().len(),
        10,
        "10 by default"
    );
    let (st, code, _) = problem(
        call(
            s,
            Method::GET,
            "/api/v1/couple/milestones?limit=-1",
            &a,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(
        (st, code.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_query")
    );
}

on_both_backends!(milestones_flow => milestones_on_sqlite, milestones_on_postgres);
