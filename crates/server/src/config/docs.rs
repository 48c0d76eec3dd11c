//! The help printed by `accueil --help` and the README's settings table, both made from the
//! declarations so that neither can forget a setting or describe one that no longer exists.

use super::Settings;
use super::general::ENVIRONMENT_ONLY;
use super::jobs::{SCHEDULE_DEFAULT, SCHEDULE_DOC, schedule_env};
use super::oauth::provider_keys;

/// Where a description starts in the help, and where lines end.
const INDENT: usize = 29;
const WIDTH: usize = 100;

const INTRO: &str = "Settings come from environment variables, over an optional TOML file (--config \
FILE or ACCUEIL_CONFIG). In the file, a setting's key is its variable in lower case without \
ACCUEIL_ (bind = \"0.0.0.0:8080\", database_url = \"...\") or its field in its section, listed \
after each heading below ([http] bind = ...); unknown keys are refused. A sign-in provider's \
keys go in [oauth.<name>] (client_id = \"...\"), a job's schedule in [jobs.schedules] (<name> = \
\"...\").";

/// The settings part of `accueil --help`.
#[must_use]
pub fn settings_help() -> String {
    let mut out = wrap(INTRO, "", "");
    out.push('\n');
    for v in ENVIRONMENT_ONLY {
        out.push_str(&line(v.env, v.doc, v.default));
    }
    for section in Settings::SECTIONS {
        let fields: Vec<&str> = section.settings.iter().map(|s| s.field).collect();
        let heading = format!(
            "[{}] {}: {}",
            section.key,
            plain(section.title).trim_end_matches('.'),
            fields.join(", ")
        );
        out.push('\n');
        out.push_str(&wrap(&heading, "", "    "));
        for s in section.settings {
            out.push_str(&line(s.env, s.doc, s.default));
        }
    }
    let keys: Vec<&str> = provider_keys().iter().map(|k| k.key).collect();
    out.push('\n');
    out.push_str(&wrap(
        &format!(
            "[oauth.<name>] One sign-in provider per name: {}",
            keys.join(", ")
        ),
        "",
        "    ",
    ));
    for k in provider_keys() {
        out.push_str(&line(&k.env("<NAME>"), k.doc, k.default));
    }
    out.push('\n');
    out.push_str(&wrap(
        "[jobs.schedules] One schedule per recurring job: <name> = \"<cron>\"",
        "",
        "    ",
    ));
    out.push_str(&line(
        &schedule_env("<NAME>"),
        SCHEDULE_DOC,
        SCHEDULE_DEFAULT,
    ));
    out.truncate(out.trim_end().len());
    out
}

/// The README's table of every variable.
#[cfg(test)]
pub(crate) fn settings_table() -> String {
    use std::fmt::Write;
    let mut out = String::from("| variable | file key | default | meaning |\n|---|---|---|---|\n");
    let mut row = |env: &str, key: &str, default: &str, doc: &str| {
        let _ = writeln!(out, "| `{env}` | {key} | {default} | {} |", markdown(doc));
    };
    for v in ENVIRONMENT_ONLY {
        row(v.env, "", v.default, v.doc);
    }
    for section in Settings::SECTIONS {
        for s in section.settings {
            let key = format!("`{}` or `{}.{}`", s.flat_key(), section.key, s.field);
            row(s.env, &key, s.default, s.doc);
        }
    }
    for k in provider_keys() {
        let key = format!("`oauth.<name>.{}`", k.key);
        row(&k.env("<NAME>"), &key, k.default, k.doc);
    }
    row(
        &schedule_env("<NAME>"),
        "`jobs.schedules.<name>`",
        SCHEDULE_DEFAULT,
        SCHEDULE_DOC,
    );
    out
}

/// One setting's help line(s).
fn line(env: &str, doc: &str, default: &str) -> String {
    let text = format!("{} (default: {})", plain(doc), plain(default));
    let head = if env.len() + 3 <= INDENT {
        format!("  {env:<width$}", width = INDENT - 2)
    } else {
        format!("  {env}  ")
    };
    wrap(&text, &head, &" ".repeat(INDENT))
}

/// A declaration's Markdown as plain text on one line.
fn plain(doc: &str) -> String {
    markdown(doc).replace('`', "")
}

/// A declaration's Markdown on one line (doc comments break lines where the source did).
fn markdown(doc: &str) -> String {
    doc.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `text` in lines of at most [`WIDTH`], the first after `first`, the others after `rest`; a
/// placeholder such as `<data dir>` stays on one line.
fn wrap(text: &str, first: &str, rest: &str) -> String {
    // Not whitespace, and never in a declaration.
    const KEEP: char = '\u{1f}';
    let mut depth = 0_usize;
    let kept: String = text
        .chars()
        .map(|c| {
            match c {
                '<' => depth += 1,
                '>' => depth = depth.saturating_sub(1),
                ' ' if depth > 0 => return KEEP,
                _ => {}
            }
            c
        })
        .collect();
    let mut out = String::new();
    let mut current = first.to_owned();
    let mut empty = true;
    for word in kept.split(' ').filter(|w| !w.is_empty()) {
        let word = word.replace(KEEP, " ");
        if !empty && current.chars().count() + 1 + word.chars().count() > WIDTH {
            out.push_str(current.trim_end());
            out.push('\n');
            current = rest.to_owned();
            empty = true;
        }
        if !empty {
            current.push(' ');
        }
        current.push_str(&word);
        empty = false;
    }
    out.push_str(current.trim_end());
    out.push('\n');
    out
}
