//! docs/api.md's table of every problem code, generated from the OpenAPI document: each
//! response lists its codes and what they mean in its `x-problem-codes` extension (from the
//! [`crate::problems!`] declarations), so one row per code gives its status, its meaning and
//! the operations that can answer it; a second table has the codes no operation declares,
//! which the router answers for requests no operation takes.
//!
//! The test fails when docs/api.md's section (between the marker lines) is not what the
//! document gives; `UPDATE_DOCS=1 cargo test -p accueil-http problem_codes` rewrites it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use utoipa::openapi::{OpenApi, RefOr};

use crate::problems::{NOT_FOUND, Spec, codes_of};

const API_MD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/api.md");
const BEGIN: &str = "<!-- codes:begin -->";
const END: &str = "<!-- codes:end -->";

/// The codes no operation of the document declares: the router answers them for requests no
/// operation takes. (`internal_error` is declared by every API operation: any of them can meet
/// a storage failure other than an unreachable database.)
fn unrouted() -> [Spec; 2] {
    [
        Spec::new(
            NOT_FOUND.status,
            NOT_FOUND.code,
            "no route serves the path (`detail`: `no such resource`)",
        ),
        crate::error::METHOD_NOT_ALLOWED,
    ]
}

/// One code as the document declares it.
#[derive(Default)]
struct Code {
    statuses: BTreeSet<u16>,
    /// Each meaning with the operations that give it, in the document's order.
    meanings: Vec<(String, Vec<String>)>,
    operations: Vec<String>,
}

/// Every operation of the document as `METHOD /path`, in the document's order.
fn operations(doc: &OpenApi) -> Vec<(String, &utoipa::openapi::path::Operation)> {
    let mut all = Vec::new();
    for (path, item) in &doc.paths.paths {
        for (method, op) in [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("PATCH", &item.patch),
            ("DELETE", &item.delete),
        ] {
            if let Some(op) = op {
                all.push((format!("{method} {path}"), op));
            }
        }
    }
    all
}

/// A table cell: no line breaks, no column separators.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn quoted(operations: &[String]) -> String {
    operations
        .iter()
        .map(|o| format!("`{o}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The generated section: both tables.
fn section(doc: &OpenApi) -> String {
    let all = operations(doc);
    let mut codes: BTreeMap<String, Code> = BTreeMap::new();
    for (name, op) in &all {
        for (status, response) in &op.responses.responses {
            let RefOr::T(response) = response else {
                continue;
            };
            let status: u16 = status.parse().expect("a numeric status");
            for (code, meaning) in codes_of(response) {
                let entry = codes.entry(code).or_default();
                entry.statuses.insert(status);
                if !entry.operations.contains(name) {
                    entry.operations.push(name.clone());
                }
                match entry.meanings.iter_mut().find(|(m, _)| *m == meaning) {
                    Some((_, ops)) => ops.push(name.clone()),
                    None => entry.meanings.push((meaning, vec![name.clone()])),
                }
            }
        }
    }
    let mut rows: Vec<(u16, &String, &Code)> = codes
        .iter()
        .map(|(code, c)| (*c.statuses.first().unwrap_or(&0), code, c))
        .collect();
    rows.sort_by_key(|(status, code, _)| (*status, *code));

    let mut out = String::from(
        "<!-- Generated from the OpenAPI document by `cargo test -p accueil-http problem_codes`; \
         `UPDATE_DOCS=1` rewrites it. Do not edit by hand. -->\n\n\
         | code | status | meaning | operations |\n|---|---|---|---|\n",
    );
    for (_, code, c) in rows {
        let statuses: Vec<String> = c.statuses.iter().map(u16::to_string).collect();
        // The meaning most operations give comes first, bare; the others say where.
        let mut meanings = c.meanings.clone();
        meanings.sort_by_key(|(_, ops)| std::cmp::Reverse(ops.len()));
        let meaning = meanings
            .iter()
            .enumerate()
            .map(|(i, (m, ops))| {
                if i == 0 {
                    cell(m)
                } else {
                    format!("on {}: {}", quoted(ops), cell(m))
                }
            })
            .collect::<Vec<_>>()
            .join("<br>");
        // A code most operations can answer is listed by the operations that cannot.
        let operations = if c.operations.len() == all.len() {
            "every operation".to_owned()
        } else if c.operations.len() * 2 > all.len() {
            let others: Vec<String> = all
                .iter()
                .map(|(name, _)| name.clone())
                .filter(|name| !c.operations.contains(name))
                .collect();
            format!("every operation but {}", quoted(&others))
        } else {
            quoted(&c.operations)
        };
        let _ = writeln!(
            out,
            "| `{code}` | {} | {meaning} | {operations} |",
            statuses.join(", ")
        );
    }
    out.push_str(
        "\nCodes no operation declares: the router answers them for a request no operation \
         takes.\n\n\
         | code | status | meaning |\n|---|---|---|\n",
    );
    for s in unrouted() {
        let _ = writeln!(out, "| `{}` | {} | {} |", s.code, s.status, cell(s.meaning));
    }
    out
}

#[test]
fn the_table_in_docs_api_md_is_generated() {
    let generated = format!("\n{}", section(&crate::openapi()));
    let text = std::fs::read_to_string(API_MD).expect("docs/api.md");
    let (before, rest) = text
        .split_once(BEGIN)
        .unwrap_or_else(|| panic!("docs/api.md has no `{BEGIN}` line"));
    let (current, after) = rest
        .split_once(END)
        .unwrap_or_else(|| panic!("docs/api.md has no `{END}` line"));
    if current == generated {
        return;
    }
    if std::env::var("UPDATE_DOCS").is_ok_and(|v| v == "1") {
        std::fs::write(API_MD, format!("{before}{BEGIN}{generated}{END}{after}"))
            .expect("docs/api.md written");
        return;
    }
    panic!(
        "docs/api.md's table of codes is not the OpenAPI document's: run \
         `UPDATE_DOCS=1 cargo test -p accueil-http problem_codes` and commit the result"
    );
}

/// Every code an operation of the document declares, by `METHOD /path`.
fn declared(doc: &OpenApi) -> BTreeMap<String, BTreeSet<String>> {
    operations(doc)
        .into_iter()
        .map(|(name, op)| {
            let codes = op
                .responses
                .responses
                .values()
                .filter_map(|r| match r {
                    RefOr::T(r) => Some(codes_of(r)),
                    RefOr::Ref(_) => None,
                })
                .flatten()
                .map(|(code, _)| code)
                .collect();
            (name, codes)
        })
        .collect()
}

/// Each operation declares the codes it can answer and no others. These pairs were declared
/// while one error type served a whole aggregate (a list could "fail" with a status change the
/// rules forbid, a public redirect with `session_required`); the operations' error types are
/// narrower now, and this keeps them so. The pairs that must stay show the check is not
/// vacuous.
#[test]
fn operations_declare_only_the_problems_they_can_answer() {
    let all = declared(&crate::openapi());
    let codes = |op: &str| {
        all.get(op)
            .unwrap_or_else(|| panic!("{op} is not in the document"))
    };
    let absent = [
        ("GET /api/v1/goals", "invalid_transition"),
        ("GET /api/v1/goals", "not_found"),
        ("POST /api/v1/goals", "not_found"),
        ("DELETE /api/v1/goals/{id}", "invalid_transition"),
        ("GET /api/v1/couple", "already_in_couple"),
        ("POST /api/v1/couple", "not_in_couple"),
        ("POST /api/v1/couple/leave", "already_in_couple"),
        ("GET /api/v1/couple/profile", "start_date_not_set"),
        ("PATCH /api/v1/couple/profile", "start_date_not_set"),
        ("GET /api/v1/qna/questions", "not_author"),
        ("POST /api/v1/qna/questions/{id}/answers", "not_author"),
        ("GET /api/v1/users/me/api-keys", "too_many_api_keys"),
        ("GET /api/v1/users/me/api-keys", "not_found"),
        ("DELETE /api/v1/users/me/api-keys/{id}", "too_many_api_keys"),
        ("GET /api/v1/couple/shares", "too_many_shares"),
        ("GET /api/v1/couple/shares", "validation_failed"),
        ("DELETE /api/v1/couple/shares/{id}", "too_many_shares"),
        ("POST /api/v1/couple/shares", "not_found"),
        ("GET /api/v1/memories", "unsupported_image_type"),
        ("GET /api/v1/memories/{id}", "image_too_large"),
        ("DELETE /api/v1/memories/{id}", "unreadable_image"),
        ("GET /api/v1/memories/{id}/photo", "payload_too_large"),
        (
            "GET /api/v1/couple/export/memories/{id}/photo",
            "unsupported_image_type",
        ),
        ("POST /api/v1/memories", "not_found"),
        ("GET /api/v1/perspectives", "not_your_perspective"),
        ("GET /api/v1/perspectives/{number}", "not_your_perspective"),
        ("GET /api/v1/auth/{provider}/start", "session_required"),
        ("GET /api/v1/auth/{provider}/start", "invalid_api_key"),
        ("GET /api/v1/auth/{provider}/start", "email_not_verified"),
        ("GET /api/v1/auth/{provider}/start", "link_required"),
        ("GET /api/v1/auth/{provider}/start", "code_rejected"),
        ("GET /api/v1/auth/{provider}/start", "not_found"),
        ("GET /api/v1/auth/{provider}/callback", "session_required"),
        ("GET /api/v1/auth/{provider}/callback", "rate_limited"),
        (
            "POST /api/v1/users/me/identities/{identity}",
            "email_not_verified",
        ),
        (
            "POST /api/v1/auth/resend-verification",
            "password_auth_disabled",
        ),
        ("GET /api/v1/goals", "api_key_read_only"),
        ("GET /api/v1/users/me", "api_key_read_only"),
    ];
    for (op, code) in absent {
        assert!(
            !codes(op).contains(code),
            "{op} declares `{code}`, which it cannot answer"
        );
    }
    let present = [
        ("PATCH /api/v1/goals/{id}", "invalid_transition"),
        ("GET /api/v1/goals/{id}", "not_found"),
        ("GET /api/v1/perspectives/{number}", "not_found"),
        ("POST /api/v1/couple", "already_in_couple"),
        ("POST /api/v1/couple/leave", "not_in_couple"),
        ("GET /api/v1/couple/together", "start_date_not_set"),
        ("PATCH /api/v1/qna/questions/{id}", "not_author"),
        ("POST /api/v1/users/me/api-keys", "too_many_api_keys"),
        ("GET /api/v1/users/me/api-keys", "session_required"),
        ("POST /api/v1/couple/shares", "too_many_shares"),
        ("PATCH /api/v1/memories/{id}", "unsupported_image_type"),
        ("POST /api/v1/memories", "image_too_large"),
        ("PUT /api/v1/perspectives/{number}", "not_your_perspective"),
        ("GET /api/v1/auth/{provider}/callback", "link_required"),
        ("GET /api/v1/auth/{provider}/callback", "code_rejected"),
        ("GET /api/v1/auth/{provider}/start", "rate_limited"),
        (
            "POST /api/v1/users/me/identities/{identity}",
            "session_required",
        ),
        (
            "POST /api/v1/auth/forgot-password",
            "password_auth_disabled",
        ),
        ("POST /api/v1/goals", "api_key_read_only"),
        ("GET /api/v1/goals", "internal_error"),
        ("GET /api/v1/public/{token}", "internal_error"),
    ];
    for (op, code) in present {
        assert!(codes(op).contains(code), "{op} no longer declares `{code}`");
    }
}
