//! The tripod CLI: clap definitions, dispatch and exit codes.
//!
//! Layout (each module one concern; arrows are "uses"):
//! - [`inventory`]: load the YAML inventory into typed structs, validate it (errors with
//!   file:line:column), and rewrite its roles in place for promote;
//! - [`render`]: per-host redis.conf from the minijinja template, and the aclfile of `acl:`;
//! - [`acl_live`]: the inventory's ACL users applied to a running server (ACL SETUSER/DELUSER);
//! - [`transport`]: run a command, upload a file atomically, read a file — over SSH or locally;
//! - [`ops`]: actions on one host over a transport: inspect, start, stop (never losing data),
//!   wait until it answers, record what runs;
//! - [`probe`]: ask a server with the redis crate (INFO, PING, SHUTDOWN SAVE), with typed failures;
//! - [`rdb_head`]: what the head of a `dump.rdb` says (replication id, offset, keys);
//! - [`safety`]: which node holds writes another lacks (the data check);
//! - [`group`]: the whole group: fan out over hosts with progress, the live master, health,
//!   waiting until healthy or caught up;
//! - [`handover`]: moving the master role with FAILOVER, used by promote and deploy;
//! - [`roles`]: persisting a new master (inventory roles rewritten in place, configs re-rendered
//!   without a restart), for promote and for deploy after a Sentinel failover;
//! - [`sentinel`]: Redis Sentinel over the group (optional `sentinel:`): its files and process
//!   per host, asking the Sentinels, deploy's Sentinel plan, promote through Sentinel;
//! - [`plan`]: deploy's plan (uploads and a step per host, refusals, warnings);
//! - [`report`]: progress lines, tables, JSON;
//! - [`commands`]: one file per subcommand, built from the layers above.
//!
//! A deploy: `inventory::load` → `group::Snapshot::take` (who is master now) →
//! `plan::compute` (render, inspect every host, decide, check architectures and data) → print
//! the plan → `commands::deploy::apply` (uploads, starts, rolling restarts, the master's
//! handover) → `group::wait_healthy`.
use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// `println!` that never panics. A closed stdout (`tripod render inv.yaml | head`) must not
/// abort a deploy or promote half way through, so a failed write is dropped and the work goes on;
/// the outcome still reaches the caller through the exit status.
macro_rules! out {
    () => { $crate::cli::report::write_out(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::cli::report::write_out(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `print!` with the same contract as [`out!`].
macro_rules! out_nonl {
    ($($arg:tt)*) => { $crate::cli::report::write_out(format_args!($($arg)*)) };
}

mod acl_live;
mod commands;
mod error;
mod group;
mod handover;
mod inventory;
mod ops;
mod plan;
mod probe;
mod rdb_head;
mod render;
mod report;
mod roles;
mod safety;
mod sentinel;
mod transport;

pub use error::{Result, EXIT_FAILED, EXIT_USAGE};

#[derive(Parser, Debug)]
#[command(
    name = "tripod",
    version,
    about = "Deploy and operate a Redis master/replica group over SSH",
    after_help = "Exit status: 0 success or healthy, 1 an operation failed or the group is unhealthy, 2 bad usage or a bad inventory.\n\
                  Environment: TRIPOD_SERVER_BIN overrides the server binary deploy uploads (default: tripod-server next to this executable)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Render configs, upload the server and configs, (re)start what changed, verify replication.
    Deploy {
        /// The inventory file (YAML).
        inventory: PathBuf,
        /// Print per host the config diff and the actions; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Deploy even when the live master is not the inventory's master (demotes it).
        #[arg(long)]
        force: bool,
    },
    /// Show every node's role, link, offset and lag; exit 0 only when the group is healthy.
    Status {
        inventory: PathBuf,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
        /// Refresh in place until interrupted.
        #[arg(long)]
        watch: bool,
        /// Seconds between refreshes with --watch.
        #[arg(long, default_value_t = 2.0)]
        interval: f64,
        /// Log in as this user of the inventory's acl.users (default: acl.status_user, else
        /// the default user with redis.password).
        #[arg(long)]
        user: Option<String>,
    },
    /// Make the replica NAME the master without losing a write.
    Promote {
        inventory: PathBuf,
        /// The replica to promote (a host name from the inventory).
        name: String,
        /// Promote even though the master is unreachable.
        #[arg(long)]
        force: bool,
        /// Seconds writes may stay paused while NAME catches up; past that the handover is
        /// aborted and the old master goes on.
        #[arg(long, default_value_t = 10.0)]
        timeout: f64,
    },
    /// Write keys on the master, read them back on every replica, report missing keys and latency.
    WriteTest {
        inventory: PathBuf,
        /// How many keys to write.
        #[arg(long, default_value_t = 1000)]
        keys: usize,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
        /// Keep the test keys instead of deleting them.
        #[arg(long)]
        keep: bool,
        /// Log in as this user of the inventory's acl.users (default: acl.write_test_user,
        /// else the default user with redis.password).
        #[arg(long)]
        user: Option<String>,
    },
    /// Render the configs deploy would push (passwords masked on screen).
    Render {
        inventory: PathBuf,
        /// Write one <host>.conf per host into DIR (unmasked, mode 0600) instead of printing.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Stop every server cleanly (SHUTDOWN, which saves), keeping data; a server whose save
    /// fails is left running and reported.
    Stop {
        inventory: PathBuf,
        /// SIGKILL a server that does not stop cleanly (loses its writes since the last save).
        #[arg(long)]
        kill: bool,
    },
}

/// Entry point: parses the command line, runs the command, returns the exit status.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tripod: cannot start the async runtime: {e}");
            return EXIT_FAILED;
        }
    };
    let result = runtime.block_on(run(cli));
    // Blocking SSH tasks may still be winding down after an error; do not wait for them.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("tripod: {e}");
            e.code
        }
    }
}

async fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Deploy {
            inventory,
            dry_run,
            force,
        } => {
            let inv = inventory::load(&inventory)?;
            commands::deploy::run(inv, dry_run, force).await
        }
        Command::Status {
            inventory,
            json,
            watch,
            interval,
            user,
        } => {
            let inv = inventory::load_offline(&inventory)?;
            let user = user.or(inv.acl.as_ref().and_then(|a| a.status_user.clone()));
            let inv = match user {
                Some(u) => inv.as_user(&u)?,
                None => inv,
            };
            commands::status::run(inv, json, watch, interval).await
        }
        Command::Promote {
            inventory,
            name,
            force,
            timeout,
        } => {
            if !(timeout.is_finite() && timeout > 0.0 && timeout <= 3600.0) {
                return Err(error::Error::usage(format!(
                    "--timeout must be a number of seconds between 0 and 3600, not {timeout}"
                )));
            }
            let inv = inventory::load(&inventory)?;
            let timeout = std::time::Duration::from_secs_f64(timeout);
            commands::promote::run(inv, &name, force, timeout).await
        }
        Command::WriteTest {
            inventory,
            keys,
            json,
            keep,
            user,
        } => {
            let inv = inventory::load_offline(&inventory)?;
            let user = user.or(inv.acl.as_ref().and_then(|a| a.write_test_user.clone()));
            let inv = match user {
                Some(u) => inv.as_user(&u)?,
                None => inv,
            };
            commands::write_test::run(inv, keys, json, keep).await
        }
        Command::Render { inventory, out } => {
            let inv = inventory::load_offline(&inventory)?;
            commands::render::run(&inv, out.as_deref())
        }
        Command::Stop { inventory, kill } => {
            let inv = inventory::load(&inventory)?;
            let mode = if kill {
                ops::StopMode::Kill
            } else {
                ops::StopMode::Clean
            };
            commands::stop::run(inv, mode).await
        }
    }
}
