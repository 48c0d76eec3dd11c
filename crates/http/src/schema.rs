//! What a request value may be, said once per kind of value, so that the OpenAPI document
//! accepts exactly what the domain's checks accept (and schemathesis can hold it to that).
//!
//! A request field names its kind with a custom format: `#[schema(format = "text:200")]`.
//! [`expand`] replaces each such format, everywhere in the document, with the JSON Schema
//! keywords that say the same as the domain's parser: a `pattern` (free texts are trimmed, so
//! their length is counted between the first and last non-space characters, inside the
//! pattern), an `enum`, or lengths. The kinds:
//!
//! | format | the domain's check |
//! | --- | --- |
//! | `text:N` | `bounded_text`: trimmed, 1 to N characters, no control characters but tab and line breaks |
//! | `display-name` | `DisplayName`: trimmed, 1 to 100 characters, no control characters |
//! | `bio` | `Bio`: trimmed, at most 500 characters, no control characters but tab and line breaks |
//! | `search` | `SearchTerm`: blank (no search), or as `text:100` |
//! | `blank-or-text:N` | a form's text part: blank (none, or clear it), or as `text:N` |
//! | `blank-or-date` | a form's day part: blank, or `YYYY-MM-DD` |
//! | `day-cursor`, `timeline-cursor`, `feed-cursor` | the `next_cursor` of check-ins (`YYYY-MM-DD_<id>`), of timelines (`YYYYMMDD_<id>`), of the feed (a number) |
//! | `username` | `Username`: trimmed, 3 to 32 of `A-Z a-z 0-9 _ . -`, starting with a letter or digit |
//! | `email` | `Email`, restricted to ASCII (the server also takes international addresses) |
//! | `avatar-url` | `AvatarUrl`, restricted to ASCII: `http(s)://host...`, at most 2,048 |
//! | `password` | `Password`'s length and characters (not its dictionary and context rules) |
//! | `month` | `Month`: `YYYY-MM` |
//! | `time-zone` | `TimeZone`: a name of the tz database |
//! | `slug` | `Slug`: 3 to 40 of `a-z 0-9 -`, starting with a letter, no `--`, not ending with `-` |
//! | `enum:A,B,C` | one of these names |
//!
//! Patterns use only what ECMA-262 and Python's `re` read alike (no `\s`, no classes by
//! property), since the document is read by both. Query parameters are never `null` (a
//! parameter is absent or a string), so their `null` type is dropped here too.

#[cfg(test)]
use std::collections::BTreeMap;

use serde_json::Value;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{ArrayItems, Object, Schema, SchemaFormat, SchemaType, Type};
use utoipa::openapi::{OpenApi, RefOr};

/// Rust's white space (`char::is_whitespace`, the Unicode White_Space property): what `trim`
/// removes.
const SPACE: &str = r"\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";
/// Control characters a free text refuses: all but tab, line feed and carriage return.
const CONTROL: &str = r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f";
/// Every control character (`char::is_control`).
const ANY_CONTROL: &str = r"\u0000-\u001f\u007f-\u009f";
/// The characters of an e-mail address's local part, in ASCII (RFC 5322 `atext`).
const ATEXT: &str = r"A-Za-z0-9!#$%&'*+/=?^_`{|}~-";
/// A domain label: letters, digits and `-`, not at either end, 1 to 63.
const LABEL: &str = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";

/// A day as `YYYY-MM-DD` (or `YYYYMMDD` with no separator) with a four-digit year, every
/// month with its own days and 29 February in leap years only.
fn day(sep: &str) -> String {
    format!(
        "(?:[0-9]{{4}}{sep}(?:(?:0[1-9]|1[0-2]){sep}(?:0[1-9]|1[0-9]|2[0-8])\
         |(?:0[13-9]|1[0-2]){sep}(?:29|30)|(?:0[13578]|1[02]){sep}31)\
         |(?:[0-9]{{2}}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00){sep}02{sep}29)"
    )
}

/// A UUID as `Uuid::try_parse` reads it, hyphenated or not.
const UUID: &str = "(?:[0-9A-Fa-f]{32}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})";

/// A trimmed text of `min` (0 or 1) to `max` characters whose own characters exclude
/// `refused`: leading and trailing white space is allowed and not counted.
fn trimmed(min: usize, max: usize, refused: &str) -> String {
    let core = format!(
        "[^{SPACE}{refused}](?:[^{refused}]{{0,{}}}[^{SPACE}{refused}])?",
        max - 2
    );
    if min == 0 {
        format!("^[{SPACE}]*(?:{core})?[{SPACE}]*$")
    } else {
        format!("^[{SPACE}]*{core}[{SPACE}]*$")
    }
}

/// What a kind says; `None` for a format that is not one of ours.
struct Kind {
    pattern: Option<String>,
    min_length: Option<usize>,
    max_length: Option<usize>,
    values: Option<Vec<String>>,
}

fn kind(format: &str) -> Option<Kind> {
    let k = |pattern: String| Kind {
        pattern: Some(pattern),
        min_length: None,
        max_length: None,
        values: None,
    };
    Some(match format {
        "display-name" => k(trimmed(1, 100, ANY_CONTROL)),
        "bio" => k(trimmed(0, 500, CONTROL)),
        "search" => k(trimmed(0, 100, CONTROL)),
        "username" => k(format!(
            "^[{SPACE}]*[A-Za-z0-9][A-Za-z0-9_.-]{{2,31}}[{SPACE}]*$"
        )),
        "email" => Kind {
            max_length: Some(254),
            ..k(format!(
                "^[{ATEXT}]{{1,15}}(?:\\.[{ATEXT}]{{1,15}}){{0,3}}@(?:{LABEL}\\.){{1,4}}{LABEL}$"
            ))
        },
        "avatar-url" => Kind {
            max_length: Some(2048),
            ..k("^https?://[!-\"$-.0->A-~]+(?:[/?#][!-~]*)?$".to_owned())
        },
        "password" => Kind {
            min_length: Some(8),
            max_length: Some(72),
            ..k(format!("^[^{ANY_CONTROL}]*$"))
        },
        "month" => k(format!(
            "^[{SPACE}]*[0-9]{{4}}-(?:0[1-9]|1[0-2])[{SPACE}]*$"
        )),
        "time-zone" => Kind {
            pattern: None,
            min_length: None,
            max_length: None,
            values: Some(
                accueil_domain::identity::TimeZone::names()
                    .map(str::to_owned)
                    .collect(),
            ),
        },
        "blank-or-date" => k(format!("^[{SPACE}]*{}?[{SPACE}]*$", day("-"))),
        "day-cursor" => k(format!("^{}_{UUID}$", day("-"))),
        "timeline-cursor" => k(format!("^{}_{UUID}$", day(""))),
        "feed-cursor" => k("^[0-9]{1,18}$".to_owned()),
        "prefix" => k("^[A-Z]{1,3}$".to_owned()),
        // The shape `Phone::parse` reads; whether the number exists in its country's plan is
        // the parser's to say (422 `invalid_phone`).
        "phone" => k(format!(
            "^[{SPACE}]*\\+(?:[0-9 ().\\/-]{{0,38}}[0-9().\\/-])?[{SPACE}]*$"
        )),
        "slug" => Kind {
            min_length: Some(3),
            max_length: Some(40),
            ..k("^[a-z](?:-?[a-z0-9])+$".to_owned())
        },
        other => {
            if let Some(max) = other.strip_prefix("text:") {
                k(trimmed(1, max.parse().ok()?, CONTROL))
            } else if let Some(max) = other.strip_prefix("blank-or-text:") {
                k(trimmed(0, max.parse().ok()?, CONTROL))
            } else if let Some(names) = other.strip_prefix("enum:") {
                Kind {
                    pattern: None,
                    min_length: None,
                    max_length: None,
                    values: Some(names.split(',').map(str::to_owned).collect()),
                }
            } else {
                return None;
            }
        }
    })
}

/// Applies a kind to a string schema; `false` when its format is not one of ours.
fn apply(object: &mut Object) -> bool {
    let Some(SchemaFormat::Custom(format)) = object.format.as_ref() else {
        return true;
    };
    let Some(kind) = kind(format) else {
        return false;
    };
    object.format = None;
    object.pattern = kind.pattern;
    object.min_length = kind.min_length;
    object.max_length = kind.max_length;
    if let Some(values) = kind.values {
        let mut values: Vec<Value> = values.into_iter().map(Value::String).collect();
        if nullable(&object.schema_type) {
            // `enum` holds every allowed value, `null` included.
            values.push(Value::Null);
        }
        object.enum_values = Some(values);
    }
    true
}

fn nullable(t: &SchemaType) -> bool {
    matches!(t, SchemaType::Array(types) if types.contains(&Type::Null))
}

/// Walks a schema, applying the kinds; collects the formats that are not ours.
fn visit(schema: &mut RefOr<Schema>, unknown: &mut Vec<String>) {
    let RefOr::T(schema) = schema else { return };
    match schema {
        Schema::Object(o) => {
            if !apply(o)
                && let Some(SchemaFormat::Custom(f)) = &o.format
            {
                unknown.push(f.clone());
            }
            for p in o.properties.values_mut() {
                visit(p, unknown);
            }
        }
        Schema::Array(a) => {
            if let ArrayItems::RefOrSchema(items) = &mut a.items {
                visit(items, unknown);
            }
        }
        Schema::OneOf(s) => s.items.iter_mut().for_each(|i| visit(i, unknown)),
        Schema::AllOf(s) => s.items.iter_mut().for_each(|i| visit(i, unknown)),
        Schema::AnyOf(s) => s.items.iter_mut().for_each(|i| visit(i, unknown)),
        _ => {}
    }
}

/// A query parameter is absent or a value, never `null`.
fn not_null(schema: &mut RefOr<Schema>) {
    match schema {
        RefOr::T(Schema::Object(o)) => {
            if let SchemaType::Array(types) = &o.schema_type {
                let types: Vec<Type> = types
                    .iter()
                    .filter(|t| **t != Type::Null)
                    .cloned()
                    .collect();
                o.schema_type = match types.as_slice() {
                    [one] => SchemaType::Type(one.clone()),
                    _ => SchemaType::Array(types),
                };
            }
            if let Some(values) = o.enum_values.as_mut() {
                values.retain(|v| !v.is_null());
            }
        }
        RefOr::T(Schema::OneOf(s)) => {
            // `Option<Enum>`: oneOf [enum, null].
            s.items.retain(|i| {
                !matches!(i, RefOr::T(Schema::Object(o)) if o.schema_type == SchemaType::Type(Type::Null))
            });
            if s.items.len() == 1
                && let Some(only) = s.items.pop()
            {
                *schema = only;
            }
        }
        _ => {}
    }
}

fn operations(doc: &mut OpenApi) -> impl Iterator<Item = &mut Operation> {
    doc.paths.paths.values_mut().flat_map(|item| {
        [
            item.get.as_mut(),
            item.put.as_mut(),
            item.post.as_mut(),
            item.delete.as_mut(),
            item.patch.as_mut(),
        ]
        .into_iter()
        .flatten()
    })
}

/// Replaces every kind in the document with what it says; returns the custom formats that are
/// not kinds (a typo in a `#[schema(format = ...)]`), which stay as they are (a test keeps
/// the list empty).
pub(crate) fn expand(doc: &mut OpenApi) -> Vec<String> {
    let mut unknown = Vec::new();
    if let Some(components) = doc.components.as_mut() {
        for schema in components.schemas.values_mut() {
            visit(schema, &mut unknown);
        }
    }
    for op in operations(doc) {
        for p in op.parameters.iter_mut().flatten() {
            let RefOr::T(p) = p else { continue };
            if let Some(schema) = p.schema.as_mut() {
                if matches!(p.parameter_in, ParameterIn::Query) {
                    not_null(schema);
                }
                visit(schema, &mut unknown);
            }
        }
        if let Some(RefOr::T(body)) = op.request_body.as_mut() {
            let optional = !matches!(body.required, Some(utoipa::openapi::Required::True));
            for content in body.content.values_mut() {
                let RefOr::T(content) = content else { continue };
                if let Some(schema) = content.schema.as_mut() {
                    if optional {
                        // An optional body is sent or not; `null` is not a body.
                        not_null(schema);
                    }
                    visit(schema, &mut unknown);
                }
            }
        }
    }
    unknown
}

/// Makes `field` of the object schema `schema` required when `when` has the value `value`
/// (`AnswerRequest`: an `ANSWERED` answer has its text). JSON Schema says it with `if` and
/// `then`, which utoipa does not model: they are added beside the schema's keywords.
pub(crate) fn required_when(doc: &mut OpenApi, schema: &str, when: &str, value: &str, field: &str) {
    let Some(RefOr::T(Schema::Object(o))) = doc
        .components
        .as_mut()
        .and_then(|c| c.schemas.get_mut(schema))
    else {
        return;
    };
    let keywords = o.extensions.get_or_insert_with(Default::default);
    keywords.insert(
        "if".to_owned(),
        serde_json::json!({"properties": {when: {"const": value}}, "required": [when]}),
    );
    keywords.insert(
        "then".to_owned(),
        serde_json::json!({"properties": {field: {"type": "string"}}, "required": [field]}),
    );
}

/// The patterns of the kinds that have one, for the tests.
#[cfg(test)]
fn kinds() -> BTreeMap<&'static str, Option<String>> {
    [
        "text:10",
        "display-name",
        "bio",
        "username",
        "email",
        "avatar-url",
        "password",
        "month",
        "blank-or-text:10",
        "blank-or-date",
        "day-cursor",
        "timeline-cursor",
        "feed-cursor",
        "slug",
        "prefix",
        "phone",
    ]
    .into_iter()
    .map(|f| (f, kind(f).and_then(|k| k.pattern)))
    .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use accueil_domain::validation::bounded_text;
    use chrono::Datelike;

    /// Every `$ref` of the document names a component it has (an enum used only as a path
    /// parameter must be inlined, or nothing registers it).
    #[test]
    fn every_reference_resolves() {
        fn walk<'a>(v: &'a Value, refs: &mut Vec<&'a str>) {
            match v {
                Value::Object(m) => {
                    if let Some(Value::String(r)) = m.get("$ref") {
                        refs.push(r);
                    }
                    m.values().for_each(|v| walk(v, refs));
                }
                Value::Array(a) => a.iter().for_each(|v| walk(v, refs)),
                _ => {}
            }
        }
        for password_auth in [true, false] {
            let doc = serde_json::to_value(crate::openapi_for(password_auth)).unwrap();
            let mut refs = Vec::new();
            walk(&doc, &mut refs);
            assert!(!refs.is_empty());
            for r in refs {
                let pointer = r.strip_prefix('#').unwrap();
                assert!(doc.pointer(pointer).is_some(), "{r} does not resolve");
            }
        }
    }

    /// The patterns, read by a regex engine close to ECMA-262's (the `regex` crate does not
    /// take `\uXXXX` outside braces, so they are rewritten as `\u{XXXX}`).
    fn matches(pattern: &str, s: &str) -> bool {
        let rust = regex_of(pattern);
        regex::Regex::new(&rust).unwrap().is_match(s)
    }

    fn regex_of(pattern: &str) -> String {
        let mut out = String::new();
        let mut rest = pattern;
        while let Some(i) = rest.find(r"\u") {
            out.push_str(&rest[..i]);
            out.push_str(&format!(r"\u{{{}}}", &rest[i + 2..i + 6]));
            rest = &rest[i + 6..];
        }
        out.push_str(rest);
        out
    }

    #[test]
    fn a_text_pattern_accepts_what_bounded_text_accepts() {
        let p = trimmed(1, 10, CONTROL);
        for s in [
            "a",
            " a ",
            "\u{3000}a\u{0085}",
            "\u{000b}a\u{000c}",
            "ten chars!",
            "  ten chars!  ",
            "a\nb\tc\rd",
            "",
            "   ",
            "eleven char",
            "a\u{0001}b",
            "a\u{000b}b",
            "\u{0001}a",
            "a\u{0085}b",
            "\u{feff}",
            "x\u{200b}",
        ] {
            assert_eq!(
                matches(&p, s),
                bounded_text("f", s, 10).is_ok(),
                "{s:?} against {p}"
            );
        }
    }

    /// utoipa names a component by its type's name alone and keeps the last one registered,
    /// so two bodies of one name in different modules silently share a schema (a ticket once
    /// documented as the WebSocket ticket). Every `ToSchema` type here has its own name.
    #[test]
    fn no_two_schemas_share_a_name() {
        fn walk(dir: &std::path::Path, out: &mut Vec<(String, String)>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    let mut derives = false;
                    for line in text.lines().map(str::trim) {
                        if line.starts_with("#[derive(") {
                            derives = line.contains("ToSchema");
                        } else if derives
                            && let Some(rest) = line
                                .strip_prefix("pub struct ")
                                .or_else(|| line.strip_prefix("pub enum "))
                                .or_else(|| line.strip_prefix("struct "))
                        {
                            let name: String = rest
                                .chars()
                                .take_while(|c| c.is_alphanumeric() || *c == '_')
                                .collect();
                            out.push((name, path.display().to_string()));
                            derives = false;
                        }
                    }
                }
            }
        }
        let mut found = Vec::new();
        walk(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut found,
        );
        found.sort();
        let twice: Vec<_> = found.windows(2).filter(|w| w[0].0 == w[1].0).collect();
        assert!(twice.is_empty(), "schemas sharing a name: {twice:?}");
        assert!(
            found.len() > 50,
            "the walk found the bodies: {}",
            found.len()
        );
    }

    #[test]
    fn a_phone_pattern_refuses_only_what_the_server_refuses() {
        let p = kind("phone").unwrap().pattern.unwrap();
        for ok in ["+33 6 12 34 56 78", " +1 (415) 555-0100 ", "+442079460958"] {
            assert!(matches(&p, ok), "{ok}");
            assert!(accueil_domain::queues::Phone::parse(ok).is_ok(), "{ok}");
        }
        let long = format!("+{}", "1".repeat(40));
        for bad in [
            "0612345678",
            "+1 800 FLOWERS",
            "++33",
            "+33 6#",
            long.as_str(),
            "",
        ] {
            assert!(!matches(&p, bad), "{bad}");
            assert!(accueil_domain::queues::Phone::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_slug_pattern_accepts_what_slug_accepts() {
        let kind = kind("slug").unwrap();
        let (p, min, max) = (
            kind.pattern.unwrap(),
            kind.min_length.unwrap(),
            kind.max_length.unwrap(),
        );
        let forty = "a".repeat(40);
        let forty_one = "a".repeat(41);
        for s in [
            "acme",
            "a1b",
            "la-poste-13",
            "a-b",
            forty.as_str(),
            "ab",
            "Acme",
            "1acme",
            "acme-",
            "ac--me",
            "-acme",
            "ac me",
            "ac_me",
            forty_one.as_str(),
            "école",
            "a-",
        ] {
            let by_schema = matches(&p, s) && (min..=max).contains(&s.chars().count());
            assert_eq!(
                by_schema,
                accueil_domain::queues::Slug::parse(s).is_ok(),
                "{s:?} against {p}"
            );
        }
    }

    #[test]
    fn the_document_uses_only_known_kinds() {
        let doc = serde_json::to_value(crate::openapi()).unwrap();
        fn formats(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::Object(m) => {
                    if let Some(Value::String(f)) = m.get("format") {
                        out.push(f.clone());
                    }
                    m.values().for_each(|v| formats(v, out));
                }
                Value::Array(a) => a.iter().for_each(|v| formats(v, out)),
                _ => {}
            }
        }
        let mut found = Vec::new();
        formats(&doc, &mut found);
        let standard = [
            "int32",
            "int64",
            "date",
            "date-time",
            "uuid",
            "binary",
            "uri",
            "double",
            "float",
        ];
        found.retain(|f| !standard.contains(&f.as_str()));
        assert!(found.is_empty(), "formats left in the document: {found:?}");
    }

    #[test]
    fn a_day_pattern_accepts_the_days_chrono_accepts() {
        let p = format!("^{}$", day("-"));
        let re = regex::Regex::new(&regex_of(&p)).unwrap();
        let mut d = chrono::NaiveDate::from_ymd_opt(1896, 1, 1).unwrap();
        while d.year() < 2105 {
            assert!(re.is_match(&d.format("%Y-%m-%d").to_string()), "{d}");
            d = d.succ_opt().unwrap();
        }
        for bad in [
            "1900-02-29",
            "2023-02-29",
            "2024-04-31",
            "2024-13-01",
            "2024-00-10",
            "24-01-01",
        ] {
            assert!(!matches(&p, bad), "{bad}");
        }
    }

    #[test]
    fn every_kind_has_a_pattern_a_regex_engine_reads() {
        for (kind, pattern) in kinds() {
            let p = pattern.unwrap();
            assert!(regex::Regex::new(&regex_of(&p)).is_ok(), "{kind}: {p}");
        }
        assert!(matches(
            &kinds()["email"].clone().unwrap(),
            "zoe.lee+tag@mail.example.org"
        ));
        assert!(!matches(
            &kinds()["email"].clone().unwrap(),
            "zoe..lee@example.org"
        ));
        assert!(matches(
            &kinds()["avatar-url"].clone().unwrap(),
            "https://cdn.example/a.png?x=1"
        ));
        assert!(!matches(
            &kinds()["avatar-url"].clone().unwrap(),
            "https://u@evil/"
        ));
        assert!(matches(&kinds()["username"].clone().unwrap(), " zoe_1 "));
        assert!(!matches(&kinds()["username"].clone().unwrap(), "_zoe"));
    }
}
