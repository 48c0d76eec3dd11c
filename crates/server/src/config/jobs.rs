//! Background jobs: whether this instance runs them, how often it looks, how long a claim
//! holds, the zone schedules are read in, and each recurring job's schedule.
//!
//! Schedules are not a fixed list of settings: each recurring job (`accueil jobs list`) may be
//! given another cron expression in the file's `[jobs.schedules]` table (`purge-deleted =
//! "0 30 3 * * *"`) or in `ACCUEIL_JOBS_SCHEDULE_<NAME>` (`ACCUEIL_JOBS_SCHEDULE_PURGE_DELETED`,
//! where `_` stands for `-`); the environment wins name by name. Expressions are checked here,
//! names at start-up against the jobs the server has.

use std::collections::BTreeMap;

use chrono::Duration;

use super::declare::section;
use super::source::Layers;
use super::values::Value;
use super::{ConfigError, invalid};

section! {
    /// Background jobs.
    pub struct Jobs in "jobs" () {
        /// `on` or `off`: whether this instance runs background jobs (mail delivery, purges);
        /// with `off` it only serves HTTP, and another instance (or a dedicated worker) must
        /// run them
        runner: bool = "on", env "ACCUEIL_JOBS_RUNNER", sample "off";
        /// how often the runner looks for due jobs when it knows of none sooner (it wakes at
        /// a known job's due time, and at once again after a round that ran one)
        poll: Duration = "1s", env "ACCUEIL_JOBS_POLL", sample "250ms";
        /// how long a claimed job is held: renewed every third of it while the job runs, so a
        /// run may last longer; a runner that dies loses its job to another once it runs out
        lease: Duration = "5m", env "ACCUEIL_JOBS_LEASE", sample "10m", check long_enough;
        /// IANA time zone the schedules are read in (`purge-deleted` at 03:30 there)
        zone: String = "UTC", env "ACCUEIL_JOBS_ZONE", sample "Europe/Paris", check known_zone;
        /// how long job runs (and finished one-off jobs) are kept for `accueil jobs list`
        history: Duration = "30d", env "ACCUEIL_JOBS_HISTORY", sample "7d";
    }
    derived {
        /// Schedule overrides by job name as written (cron expressions, checked).
        schedules: BTreeMap<String, String> = schedules;
    }
}

/// The variable of a job's schedule (`<NAME>` in the help).
pub(crate) fn schedule_env(upper_name: &str) -> String {
    format!("{SCHEDULE_PREFIX}{upper_name}")
}

const SCHEDULE_PREFIX: &str = "ACCUEIL_JOBS_SCHEDULE_";

/// What the help and the README say of the schedule overrides.
pub(crate) const SCHEDULE_DOC: &str = "cron expression (5 fields, or 6 with seconds first) \
replacing the default schedule of the recurring job `<name>` (`accueil jobs list`); `_` in \
`<NAME>` stands for `-`; in the file, `[jobs.schedules] <name> = \"...\"`";

/// Its default, for the help and the README.
pub(crate) const SCHEDULE_DEFAULT: &str = "`mail-delivery` `* * * * *`, `purge-deleted` \
`30 3 * * *`, `purge-expired` `15 * * * *`";

fn long_enough(lease: Duration) -> Result<Duration, String> {
    if lease < Duration::seconds(1) {
        return Err("a lease shorter than 1s would be lost before most jobs finish".into());
    }
    Ok(lease)
}

fn known_zone(zone: String) -> Result<String, String> {
    accueil_domain::jobs::Schedule::parse("* * * * *", zone.trim())
        .map(|s| s.zone().to_owned())
        .map_err(|e| e.to_string())
}

fn check_cron(name: &str, cron: &str) -> Result<String, String> {
    accueil_domain::jobs::Schedule::parse(cron.trim(), "UTC")
        .map(|_| cron.trim().to_owned())
        .map_err(|e| format!("{name}: {e}"))
}

/// The file's `[jobs.schedules]`, then the `ACCUEIL_JOBS_SCHEDULE_<NAME>` variables over it.
fn schedules(src: &mut Layers<'_>) -> Result<BTreeMap<String, String>, ConfigError> {
    let any = "ACCUEIL_JOBS_SCHEDULE_<NAME>";
    let mut found = BTreeMap::new();
    for (key, value) in src.take_rest("jobs")? {
        if key != "schedules" {
            return Err(src.file_error(format!("unknown key jobs.{key} (see accueil --help)")));
        }
        let toml::Value::Table(table) = value else {
            return Err(src.file_error(format!(
                "jobs.schedules: expected a table of job = \"cron\", not {}",
                value.type_str()
            )));
        };
        for (name, cron) in table {
            let cron = String::from_toml(cron)
                .and_then(|c| check_cron(&name, &c))
                .map_err(|m| src.file_error(format!("jobs.schedules.{m}")))?;
            found.insert(fold(&name), (name, cron));
        }
    }
    let vars: Vec<String> = src
        .names()
        .iter()
        .filter(|n| n.starts_with(SCHEDULE_PREFIX) && n.len() > SCHEDULE_PREFIX.len())
        .cloned()
        .collect();
    for var in vars {
        let Some(raw) = src.env(&var) else { continue };
        let upper = &var[SCHEDULE_PREFIX.len()..];
        let cron = check_cron(&var, &raw).map_err(|m| invalid(any, m))?;
        let name = upper.to_ascii_lowercase().replace('_', "-");
        found.insert(fold(&name), (name, cron));
    }
    Ok(found.into_values().collect())
}

/// A job name as the file and the variables may both spell it.
fn fold(name: &str) -> String {
    name.to_ascii_lowercase().replace(['_', '.'], "-")
}
