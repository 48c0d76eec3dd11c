//! The command line: `accueil [serve]`, `accueil migrate`, `accueil create-admin`.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;

use accueil_app::admin::{AdminOutcome, CreateAdminError};
use accueil_domain::identity::Email;
use clap::{Parser, Subcommand};

use crate::config::{Settings, settings_help};

/// Accueil: one backend for five apps on a shared identity core.
#[derive(Debug, Parser)]
#[command(name = "accueil", version, after_help = settings_help())]
pub struct Cli {
    /// TOML settings file (environment variables override it).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (the default).
    Serve,
    /// Apply pending database migrations and list the applied ones.
    Migrate,
    /// Create an administrator, or give the admin role to the account with this e-mail.
    ///
    /// The password is read from standard input with --password-stdin, or asked for on a
    /// terminal. Creating an account needs one; for an existing account it is optional and,
    /// when given, replaces the password and ends the account's sessions.
    CreateAdmin {
        /// The account's e-mail address.
        #[arg(long)]
        email: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// The mail outbox: list pending and failed mail, or put a failed one back in line.
    Outbox {
        /// What to do (default: list).
        #[command(subcommand)]
        action: Option<OutboxAction>,
    },
    /// Background jobs: list the recurring schedules with their last run and last failure, or
    /// run one now.
    Jobs {
        /// What to do (default: list).
        #[command(subcommand)]
        action: Option<JobsAction>,
    },
    /// Disable an account: it can no longer log in, and every session ends at once.
    DisableUser {
        /// The account's e-mail address.
        #[arg(long)]
        email: String,
    },
    /// Enable a disabled account again.
    EnableUser {
        /// The account's e-mail address.
        #[arg(long)]
        email: String,
    },
    /// Remove the accounts deleted longer ago than ACCUEIL_DELETION_GRACE, the couples
    /// dissolved and the tenants deleted more than 30 days ago, sessions ended (or refresh tokens expired) and
    /// e-mailed links expired longer ago than the grace period, expired sign-in flows, and job
    /// runs older than ACCUEIL_JOBS_HISTORY: what the purge-deleted and purge-expired jobs do.
    PurgeDeleted,
}

/// `accueil outbox` actions.
#[derive(Debug, Subcommand)]
pub enum OutboxAction {
    /// List mail (default: pending and failed).
    List {
        /// Only this state: pending, failed or sent.
        #[arg(long)]
        state: Option<String>,
        /// At most this many per state.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Put a failed mail back in line; the server's worker sends it.
    Retry {
        /// The mail's id (from `accueil outbox list`).
        id: uuid::Uuid,
    },
}

/// `accueil jobs` actions.
#[derive(Debug, Subcommand)]
pub enum JobsAction {
    /// List the recurring jobs (with --all, one-off jobs too): next run, last run, last failure.
    List {
        /// One-off jobs too.
        #[arg(long)]
        all: bool,
    },
    /// Run a recurring job now, once, in this process, and print how it went (exit status 1
    /// when it fails, is unknown, or is running on an instance right now). It is claimed like
    /// a runner claims it, so it never runs twice at once; its schedule is unchanged.
    Run {
        /// The job (see `accueil jobs list`), e.g. purge-deleted.
        name: String,
    },
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> ExitCode {
    let settings = match Settings::from_env(cli.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("accueil: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    crate::telemetry::init(settings.general.log_format);
    let result = actix_web::rt::System::new().block_on(async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => serve(&settings).await,
            Command::Migrate => migrate(&settings).await,
            Command::CreateAdmin {
                email,
                password_stdin,
            } => create_admin(&settings, email, password_stdin).await,
            Command::Outbox { action } => outbox(&settings, action).await,
            Command::PurgeDeleted => purge_deleted(&settings).await,
            Command::Jobs { action } => jobs(&settings, action).await,
            Command::DisableUser { email } => set_active(&settings, &email, false).await,
            Command::EnableUser { email } => set_active(&settings, &email, true).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("accueil: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: &Settings) -> Result<(), String> {
    let running = crate::start(settings).await.map_err(|e| e.to_string())?;
    let result = running.server.await;
    // No new claim; the job in flight gets a few seconds, then its lease lets another runner
    // (or the next start) take it over.
    running.jobs.stop().await;
    result.map_err(|e| e.to_string())?;
    tracing::info!("stopped");
    Ok(())
}

async fn migrate(settings: &Settings) -> Result<(), String> {
    let store = crate::open_store_for_command(settings)
        .await
        .map_err(|e| e.to_string())?;
    let applied = tokio::task::spawn_blocking(move || store.applied_migrations())
        .await
        .map_err(|e| e.to_string())??;
    println!("migrations applied ({}):", applied.len());
    for v in applied {
        println!("  {v}");
    }
    Ok(())
}

fn read_password(from_stdin: bool) -> Result<Option<String>, String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        let line = line.trim_end_matches(['\r', '\n']).to_owned();
        return Ok(Some(line).filter(|l| !l.is_empty()));
    }
    if !std::io::stdin().is_terminal() {
        return Ok(None);
    }
    let first = rpassword::prompt_password("Password (empty to keep an existing account's): ")
        .map_err(|e| e.to_string())?;
    if first.is_empty() {
        return Ok(None);
    }
    let again = rpassword::prompt_password("Again: ").map_err(|e| e.to_string())?;
    if first != again {
        return Err("the two passwords differ".into());
    }
    Ok(Some(first))
}

async fn create_admin(
    settings: &Settings,
    email: String,
    password_stdin: bool,
) -> Result<(), String> {
    let password = read_password(password_stdin)?;
    let store = crate::open_store_for_command(settings)
        .await
        .map_err(|e| e.to_string())?;
    let app = crate::build_app(settings, store)
        .await
        .map_err(|e| e.to_string())?;
    let email = Email::parse(&email).map_err(|e| e.to_string())?;
    let outcome = app
        .admin
        .create_or_promote_admin(email, password.as_deref())
        .await
        .map_err(|e| match e {
            CreateAdminError::Invalid(v) => v.0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "),
            CreateAdminError::PasswordRequired => {
                "no account has this e-mail address; give a password (--password-stdin, or run on a terminal) to create one".into()
            }
            other => other.to_string(),
        })?;
    match outcome {
        AdminOutcome::Created(u) => println!("created administrator {} ({})", u.email, u.id),
        AdminOutcome::Promoted(u) => println!("{} ({}) is now an administrator", u.email, u.id),
        AdminOutcome::Unchanged(u) => {
            println!("{} ({}) was already an administrator", u.email, u.id)
        }
    }
    Ok(())
}

async fn app(settings: &Settings) -> Result<accueil_app::App, String> {
    let store = crate::open_store_for_command(settings)
        .await
        .map_err(|e| e.to_string())?;
    crate::build_app(settings, store)
        .await
        .map_err(|e| e.to_string())
}

async fn outbox(settings: &Settings, action: Option<OutboxAction>) -> Result<(), String> {
    use accueil_domain::notify::DeliveryState;
    let app = app(settings).await?;
    match action.unwrap_or(OutboxAction::List {
        state: None,
        limit: 50,
    }) {
        OutboxAction::List { state, limit } => {
            let states =
                match state.as_deref() {
                    None => vec![DeliveryState::Pending, DeliveryState::Failed],
                    Some(s) => vec![DeliveryState::parse(s).ok_or_else(|| {
                        format!("unknown state {s:?}: use pending, failed or sent")
                    })?],
                };
            for state in states {
                let entries = app
                    .notify
                    .list(Some(state), limit)
                    .await
                    .map_err(|e| e.to_string())?;
                println!("{} ({}):", state.as_str(), entries.len());
                for e in entries {
                    println!(
                        "  {}  {}  {:<20} to {}  attempts {}  next {}{}",
                        e.id,
                        e.created_at.format("%Y-%m-%d %H:%M:%S"),
                        e.mail.template.as_str(),
                        e.mail.to,
                        e.attempts,
                        e.next_attempt_at.format("%Y-%m-%d %H:%M:%S"),
                        e.last_error
                            .map(|err| format!("  last error: {err}"))
                            .unwrap_or_default(),
                    );
                }
            }
        }
        OutboxAction::Retry { id } => {
            if app.notify.retry(id).await.map_err(|e| e.to_string())? {
                println!("{id} is back in line; an instance's jobs runner sends it");
            } else {
                return Err(format!("{id} is not a failed mail"));
            }
        }
    }
    Ok(())
}

fn time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

async fn jobs(settings: &Settings, action: Option<JobsAction>) -> Result<(), String> {
    let app = app(settings).await?;
    match action.unwrap_or(JobsAction::List { all: false }) {
        JobsAction::List { all } => list_jobs(&app, all).await,
        JobsAction::Run { name } => run_job(settings, &app, &name).await,
    }
}

async fn list_jobs(app: &accueil_app::App, all: bool) -> Result<(), String> {
    let listed = app.jobs.list(all).await.map_err(|e| e.to_string())?;
    println!("jobs ({}):", listed.len());
    for status in listed {
        let job = &status.job;
        let when = job.schedule.as_ref().map_or_else(
            || "one-off".to_owned(),
            |s| format!("{} ({})", s.expr(), s.zone()),
        );
        println!(
            "  {:<24} {}  {}  next {}  attempts {}/{}",
            job.name.as_str(),
            when,
            job.state.as_str(),
            time(job.run_at),
            job.attempts,
            job.max_attempts,
        );
        if let Some(lease) = &job.lease {
            println!(
                "      leased to {} until {}",
                lease.owner,
                time(lease.until)
            );
        }
        if let Some(run) = &status.last_run {
            println!(
                "      last run {} on {}: {} (due {}, attempt {})",
                time(run.finished_at),
                run.owner,
                run.outcome.as_str(),
                time(run.due_at),
                run.attempt,
            );
        }
        if let Some(run) = &status.last_failure {
            println!(
                "      last failure {}: {}",
                time(run.finished_at),
                run.error.as_deref().unwrap_or("")
            );
        }
    }
    let per_user = app.jobs.per_user().await.map_err(|e| e.to_string())?;
    if !per_user.is_empty() {
        println!("per-user schedules (each on its user's clock):");
    }
    for group in per_user {
        println!(
            "  {:<24} {} user(s)  next {}",
            group.name.as_str(),
            group.users,
            group.next_run_at.map_or_else(|| "-".to_owned(), time),
        );
    }
    Ok(())
}

async fn run_job(settings: &Settings, app: &accueil_app::App, name: &str) -> Result<(), String> {
    use accueil_domain::jobs::Outcome;
    // Adds the schedules no instance registered yet (never changes one: the runners' settings
    // own them), so a job can be run before the first server start.
    let schedules = app
        .jobs
        .resolve_schedules(&settings.jobs.zone, &settings.jobs.schedules)
        .map_err(|e| e.to_string())?;
    app.jobs
        .register_schedules(schedules, false)
        .await
        .map_err(|e| e.to_string())?;
    let owner = format!("cli:{}", crate::runner::owner_id());
    let ran = app
        .jobs
        .run_now(name, &owner)
        .await
        .map_err(|e| e.to_string())?;
    let run = &ran.run;
    let took = (run.finished_at - run.started_at).num_milliseconds();
    let took = format!("{}.{:03} s", took / 1000, took % 1000);
    if !ran.recorded {
        return Err(format!(
            "job {} ran ({}, {took}) past its lease (ACCUEIL_JOBS_LEASE): another runner took it over, and this run was not recorded",
            run.name,
            run.outcome.as_str()
        ));
    }
    match run.outcome {
        Outcome::Succeeded => {
            println!(
                "job {} succeeded in {took} (run {} as {owner})",
                run.name, run.id
            );
            Ok(())
        }
        Outcome::Failed => Err(format!(
            "job {} failed after {took}: {}",
            run.name,
            run.error.as_deref().unwrap_or("")
        )),
    }
}

async fn purge_deleted(settings: &Settings) -> Result<(), String> {
    let app = app(settings).await?;
    let report = app.purge().await?;
    println!(
        "purged {} deleted account(s), {} ended session(s), {} dissolved couple(s), {} expired link(s), {} old job run(s)",
        report.accounts, report.sessions, report.couples, report.links, report.job_history
    );
    if report.file_failures > 0 {
        return Err(format!(
            "the files of {} purged couple(s) could not be deleted; see the log",
            report.file_failures
        ));
    }
    Ok(())
}

async fn set_active(settings: &Settings, email: &str, active: bool) -> Result<(), String> {
    let app = app(settings).await?;
    let email = Email::parse(email).map_err(|e| e.to_string())?;
    let user = app
        .admin
        .set_active(email, active)
        .await
        .map_err(|e| e.to_string())?;
    let state = if active {
        "enabled"
    } else {
        "disabled; its sessions have ended"
    };
    println!("{} ({}) is {state}", user.email, user.id);
    Ok(())
}
