//! The two sources a setting is read from, the TOML file and the environment, and the rule
//! between them: the environment wins.
//!
//! The file is parsed into a table once; each setting then takes its key out of it, under its
//! flat name (`bind`) or in its section (`[http] bind`). Whatever is left at the end is a key
//! no setting claimed: a typo, refused rather than silently ignored.

use std::path::Path;

use super::values::Value;
use super::{ConfigError, Sources, invalid};

/// The TOML key of a setting outside any section: its variable in lower case without
/// `ACCUEIL_` (`ACCUEIL_BIND` is `bind`, `DATABASE_URL` is `database_url`).
pub(crate) fn flat_key(env: &str) -> String {
    env.strip_prefix("ACCUEIL_")
        .unwrap_or(env)
        .to_ascii_lowercase()
}

/// The file, parsed, with the keys not yet taken.
struct File {
    path: String,
    table: toml::Table,
}

/// The sources while settings are being resolved.
pub(crate) struct Layers<'a> {
    env: &'a dyn Fn(&str) -> Option<String>,
    names: &'a [String],
    file: Option<File>,
    /// The declared variables given a value by either source, in resolution order.
    configured: Vec<&'static str>,
}

impl<'a> Layers<'a> {
    /// Reads and parses the file, if any.
    pub(crate) fn open(src: &Sources<'a>) -> Result<Self, ConfigError> {
        let file = match src.file {
            Some(p) => Some(read(p)?),
            None => None,
        };
        Ok(Self {
            env: src.env,
            names: src.names,
            file,
            configured: Vec::new(),
        })
    }

    /// One environment variable.
    pub(crate) fn env(&self, name: &str) -> Option<String> {
        (self.env)(name)
    }

    /// The names of the environment variables present.
    pub(crate) fn names(&self) -> &[String] {
        self.names
    }

    /// A problem with the file's content.
    pub(crate) fn file_error(&self, message: impl Into<String>) -> ConfigError {
        ConfigError::File {
            path: self
                .file
                .as_ref()
                .map_or_else(String::new, |f| f.path.clone()),
            message: message.into(),
        }
    }

    /// A declared setting's value: the environment's if set, else the file's, else `None`.
    /// The file's value is checked even when the environment overrides it, so a broken file
    /// is noticed before the day the variable is removed.
    pub(crate) fn take<T: Value>(
        &mut self,
        section: &'static str,
        field: &'static str,
        env: &'static str,
    ) -> Result<Option<T>, ConfigError> {
        let from_file = match self.take_file(section, field, env)? {
            Some((key, value)) => {
                Some(T::from_toml(value).map_err(|m| self.file_error(format!("{key}: {m}")))?)
            }
            None => None,
        };
        let value = match self.env(env) {
            Some(raw) => Some(T::from_env(&raw).map_err(|m| invalid(env, m))?),
            None => from_file,
        };
        if value.is_some() {
            self.configured.push(env);
        }
        Ok(value)
    }

    fn take_file(
        &mut self,
        section: &str,
        field: &str,
        env: &str,
    ) -> Result<Option<(String, toml::Value)>, ConfigError> {
        let Some(file) = &mut self.file else {
            return Ok(None);
        };
        let flat = flat_key(env);
        let flat_value = file.table.remove(&flat);
        let section_value = match file.table.get_mut(section) {
            Some(toml::Value::Table(t)) => t.remove(field),
            Some(other) => {
                let kind = other.type_str();
                return Err(self.file_error(format!("{section}: expected a table, not {kind}")));
            }
            None => None,
        };
        match (flat_value, section_value) {
            (Some(_), Some(_)) => Err(self.file_error(format!(
                "{flat} and {section}.{field} are the same setting: keep one"
            ))),
            (Some(v), None) => Ok(Some((flat, v))),
            (None, Some(v)) => Ok(Some((format!("{section}.{field}"), v))),
            (None, None) => Ok(None),
        }
    }

    /// What is left of a section's table once its declared settings are taken (the OAuth
    /// section keeps its providers there).
    pub(crate) fn take_rest(&mut self, section: &str) -> Result<toml::Table, ConfigError> {
        let Some(file) = &mut self.file else {
            return Ok(toml::Table::new());
        };
        match file.table.remove(section) {
            Some(toml::Value::Table(t)) => Ok(t),
            Some(other) => {
                let kind = other.type_str();
                Err(self.file_error(format!("{section}: expected a table, not {kind}")))
            }
            None => Ok(toml::Table::new()),
        }
    }

    /// Refuses the keys no setting took; returns the declared variables that were set.
    pub(crate) fn finish(self, sections: &[&str]) -> Result<Vec<&'static str>, ConfigError> {
        let Some(file) = &self.file else {
            return Ok(self.configured);
        };
        let mut unknown = Vec::new();
        for (key, value) in &file.table {
            match value {
                toml::Value::Table(t) if sections.contains(&key.as_str()) => {
                    unknown.extend(t.keys().map(|k| format!("{key}.{k}")));
                }
                _ => unknown.push(key.clone()),
            }
        }
        if unknown.is_empty() {
            return Ok(self.configured);
        }
        unknown.sort();
        Err(self.file_error(format!(
            "unknown key(s) {} (see accueil --help)",
            unknown.join(", ")
        )))
    }
}

fn read(path: &Path) -> Result<File, ConfigError> {
    let error = |message: String| ConfigError::File {
        path: path.display().to_string(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
    let table = text
        .parse::<toml::Table>()
        .map_err(|e| error(e.to_string()))?;
    Ok(File {
        path: path.display().to_string(),
        table,
    })
}
