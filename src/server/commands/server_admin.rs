//! Server commands: INFO, CONFIG, COMMAND, TIME, LASTSAVE, SHUTDOWN,
//! MONITOR, SLOWLOG.
use super::*;
use crate::server::client::Client;
use crate::server::resp::errors;
use crate::server::state::{Server, ShutdownMode};
use crate::server::util::{now_us, parse_i64};

pub static COMMANDS: &[Command] = &[
    Command::new("info", info)
        .arity(-1)
        .group("server")
        .flags(LOADING | STALE | SENTINEL),
    Command::container("config", CONFIG_SUBCOMMANDS)
        .arity(-2)
        .group("server"),
    Command {
        name: "command",
        arity: -1,
        group: "server",
        flags: LOADING | STALE | SENTINEL,
        first_key: 0,
        last_key: 0,
        step: 0,
        handler: command_all,
        subcommands: COMMAND_SUBCOMMANDS,
        get_keys: None,
    },
    Command::new("time", time)
        .arity(1)
        .group("server")
        .flags(LOADING | STALE | FAST),
    Command::new("lastsave", lastsave)
        .arity(1)
        .group("server")
        .flags(LOADING | STALE | FAST),
    Command::new("shutdown", shutdown)
        .arity(-1)
        .group("server")
        .flags(ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | SENTINEL | ALLOW_BUSY),
    Command::new("monitor", monitor)
        .arity(1)
        .group("server")
        .flags(ADMIN | NOSCRIPT | LOADING | STALE),
    Command::container("slowlog", SLOWLOG_SUBCOMMANDS)
        .arity(-2)
        .group("server"),
];

static CONFIG_SUBCOMMANDS: &[Command] = &[
    Command::new("config|get", config_get)
        .arity(-3)
        .group("server")
        .flags(ADMIN | NOSCRIPT | LOADING | STALE),
    Command::new("config|set", config_set)
        .arity(-4)
        .group("server")
        .flags(ADMIN | NOSCRIPT | LOADING | STALE),
    Command::new("config|resetstat", config_resetstat)
        .arity(2)
        .group("server")
        .flags(ADMIN | NOSCRIPT | LOADING | STALE),
    Command::new("config|rewrite", config_rewrite)
        .arity(2)
        .group("server")
        .flags(ADMIN | NOSCRIPT | LOADING | STALE),
    Command::new("config|help", config_help)
        .arity(2)
        .group("server")
        .flags(LOADING | STALE),
];

static COMMAND_SUBCOMMANDS: &[Command] = &[
    Command::new("command|count", command_count)
        .arity(2)
        .group("server")
        .flags(LOADING | STALE),
    Command::new("command|info", command_info)
        .arity(-2)
        .group("server")
        .flags(LOADING | STALE),
    Command::new("command|docs", command_docs)
        .arity(-2)
        .group("server")
        .flags(LOADING | STALE),
    Command::new("command|list", command_list)
        .arity(-2)
        .group("server")
        .flags(LOADING | STALE),
    Command::new("command|getkeys", command_getkeys)
        .arity(-4)
        .group("server")
        .flags(LOADING | STALE),
    Command::new("command|getkeysandflags", command_getkeysandflags)
        .arity(-4)
        .group("server")
        .flags(LOADING | STALE),
    Command::new("command|help", command_help)
        .arity(2)
        .group("server")
        .flags(LOADING | STALE),
];

static SLOWLOG_SUBCOMMANDS: &[Command] = &[
    Command::new("slowlog|get", slowlog_get)
        .arity(-2)
        .group("server")
        .flags(ADMIN | LOADING | STALE),
    Command::new("slowlog|len", slowlog_len)
        .arity(2)
        .group("server")
        .flags(ADMIN | LOADING | STALE),
    Command::new("slowlog|reset", slowlog_reset)
        .arity(2)
        .group("server")
        .flags(ADMIN | LOADING | STALE),
    Command::new("slowlog|help", slowlog_help)
        .arity(2)
        .group("server")
        .flags(LOADING | STALE),
];

/// INFO [section [section ...]]: replies with the requested INFO sections (the default set
/// when none are given) as a verbatim string built by `server::info::build`.
fn info(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let sections: Vec<String> = argv[1..]
        .iter()
        .map(|a| String::from_utf8_lossy(a).to_lowercase())
        .collect();
    let text = crate::server::info::build(srv, &sections);
    c.reply.verbatim(text.as_bytes());
}

/// CONFIG GET parameter [parameter ...]: replies with a map (flat array in RESP2) of every
/// configuration parameter matching any of the glob patterns to its value.
fn config_get(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let pats: Vec<&[u8]> = argv[2..].iter().map(|a| &a[..]).collect();
    let pairs = srv.config.get_matching(&pats);
    c.reply.map(pairs.len());
    for (k, v) in pairs {
        c.reply.bulk(k.as_bytes());
        c.reply.bulk(v.as_bytes());
    }
}

/// CONFIG SET parameter value [parameter value ...]: sets the parameters (all or none, as
/// `Config::set` validates them together) and applies their runtime side effects. Replies
/// OK or the validation error; an unpaired argument is a syntax error.
fn config_set(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    if !argv.len().is_multiple_of(2) {
        c.reply.error(errors::SYNTAX);
        return;
    }
    let pairs: Vec<(Vec<u8>, Vec<u8>)> = argv[2..]
        .chunks(2)
        .map(|p| (p[0].clone(), p[1].clone()))
        .collect();
    let before = srv.config.clone();
    match srv.config.set(&pairs) {
        Ok(changed) => {
            if let Err(e) = check_config_changes(srv, &before, &changed) {
                srv.config = before;
                c.reply.error(&e);
                return;
            }
            apply_config_changes(srv, &changed);
            c.reply.ok();
        }
        Err(e) => c.reply.error(&e),
    }
}

/// Checks CONFIG SET's new values against the running system before they take
/// effect; an error (the reply text) undoes the whole CONFIG SET. A larger
/// `maxclients` must fit the open-files limit (raised if the system allows).
fn check_config_changes(
    srv: &mut Server,
    before: &crate::server::config::Config,
    changed: &[&'static str],
) -> Result<(), String> {
    if changed.contains(&"maxclients") && srv.config.maxclients > before.maxclients {
        let fit = crate::server::fdlimit::fit_maxclients(srv.config.maxclients);
        if fit.clients < srv.config.maxclients {
            return Err(format!(
                "ERR CONFIG SET failed (possibly related to argument 'maxclients') - The operating system is not able to handle the specified number of clients, try with {}",
                fit.clients
            ));
        }
    }
    if changed.contains(&"oom-score-adj") || changed.contains(&"oom-score-adj-values") {
        let class = crate::server::oom::current_class(srv);
        if crate::server::oom::apply(srv, class).is_err() {
            // Back to the old values (and their score) before failing.
            let now = std::mem::replace(&mut srv.config, before.clone());
            let _ = crate::server::oom::apply(srv, class);
            srv.config = now;
            let arg = if changed.contains(&"oom-score-adj-values") {
                "oom-score-adj-values"
            } else {
                "oom-score-adj"
            };
            return Err(format!(
                "ERR CONFIG SET failed (possibly related to argument '{}') - Failed to set current oom_score_adj. Check server logs.",
                arg
            ));
        }
    }
    if changed.contains(&"port") || changed.contains(&"bind") {
        if let Some(rebind) = srv.rebind {
            rebind(srv, before).map_err(|e| {
                let arg = if changed.contains(&"port") {
                    "port"
                } else {
                    "bind"
                };
                format!(
                    "ERR CONFIG SET failed (possibly related to argument '{}') - {}",
                    arg, e
                )
            })?;
        }
    }
    // Last, as it can't be undone: appendonly starts (a rewrite first) or
    // stops the AOF, as Redis's updateAppendonly.
    crate::server::aof::refresh_config(srv);
    if changed.contains(&"appendonly") {
        if srv.config.appendonly {
            crate::server::aof::start(srv).map_err(|e| {
                format!(
                    "ERR CONFIG SET failed (possibly related to argument 'appendonly') - {}",
                    e
                )
            })?;
        } else {
            crate::server::aof::stop(srv);
        }
    }
    Ok(())
}

/// Side effects of CONFIG SET on the running server.
pub fn apply_config_changes(srv: &mut Server, changed: &[&'static str]) {
    for name in changed {
        match *name {
            "logfile" | "loglevel" => {
                crate::server::log::init(&srv.config.logfile, &srv.config.loglevel)
            }
            "repl-backlog-size" => {
                let size = srv.config.repl_backlog_size as usize;
                if let Some(b) = srv.repl.backlog.as_mut() {
                    b.resize(size);
                }
            }
            "requirepass" => {
                let pass = srv.config.requirepass.clone();
                srv.acl.set_requirepass(pass.as_deref());
            }
            // Redis starts its eviction time event: the keys over the new
            // limit go without waiting for the next command (see the cron).
            "maxmemory" => srv.evict_soon = srv.config.maxmemory > 0,
            "aof-disable-auto-gc" => crate::server::aof::rewrite::delete_history(srv),
            _ => {}
        }
    }
}

/// CONFIG RESETSTAT: resets the INFO statistics, command stats and error stats. Replies OK.
fn config_resetstat(srv: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    srv.stats = Default::default();
    srv.cmd_stats.clear();
    srv.err_stats.clear();
    c.reply.ok();
}

/// CONFIG REWRITE: rewrites the configuration file with the current settings, logging the
/// outcome. Replies OK or the error.
fn config_rewrite(srv: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    match srv.config.rewrite() {
        Ok(()) => {
            crate::server::log::notice("CONFIG REWRITE executed with success.");
            c.reply.ok()
        }
        Err(e) => {
            crate::server::log::warning(&format!("CONFIG REWRITE failed: {}", e));
            c.reply.error(&e)
        }
    }
}

/// CONFIG HELP: replies with the list of CONFIG subcommands as simple strings.
fn config_help(_: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    let lines = [
        "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
        "REWRITE",
        "    Rewrite the configuration file.",
        "HELP",
        "    Prints this help.",
    ];
    c.reply.array(lines.len());
    for l in lines {
        c.reply.simple(l);
    }
}

/// All commands, sorted by name (stable output for COMMAND and COMMAND LIST).
fn all_commands() -> Vec<&'static Command> {
    let mut v: Vec<&'static Command> = table().values().copied().collect();
    v.sort_by_key(|c| c.name);
    v
}

/// Writes one COMMAND INFO entry in Redis 7.0's ten-field layout: name, arity, flags, first
/// key, last key, step, ACL categories, tips (always empty), key specs (Redis 7.0's, see
/// acl::keyspec_info) and, recursively, the subcommands.
fn write_command_info(c: &mut Client, cmd: &Command) {
    c.reply.array(10);
    c.reply.bulk(cmd.name.as_bytes());
    c.reply.int(cmd.arity as i64);
    let flags = cmd.flag_names();
    c.reply.set(flags.len());
    for f in flags {
        c.reply.simple(f);
    }
    c.reply.int(cmd.first_key as i64);
    c.reply.int(cmd.last_key as i64);
    c.reply.int(cmd.step as i64);
    let cats = cmd.acl_categories();
    c.reply.set(cats.len());
    for a in cats {
        c.reply.simple(a);
    }
    c.reply.set(0);
    // Key specifications: Redis's own; for a command Redis does not have, one
    // range spec when the command has keys.
    let redis_specs = crate::server::acl::keyspec_info::write_key_specs(&mut c.reply, cmd.name);
    if redis_specs {
        // written
    } else if cmd.first_key > 0 {
        c.reply.array(1);
        c.reply.map(4);
        c.reply.bulk(b"flags");
        c.reply.set(1);
        c.reply.simple(if cmd.is_write() { "RW" } else { "RO" });
        c.reply.bulk(b"begin_search");
        c.reply.map(2);
        c.reply.bulk(b"type");
        c.reply.bulk(b"index");
        c.reply.bulk(b"spec");
        c.reply.map(1);
        c.reply.bulk(b"index");
        c.reply.int(cmd.first_key as i64);
        c.reply.bulk(b"find_keys");
        c.reply.map(2);
        c.reply.bulk(b"type");
        c.reply.bulk(b"range");
        c.reply.bulk(b"spec");
        c.reply.map(3);
        c.reply.bulk(b"lastkey");
        c.reply.int(if cmd.last_key < 0 {
            cmd.last_key as i64
        } else {
            (cmd.last_key - cmd.first_key) as i64
        });
        c.reply.bulk(b"keystep");
        c.reply.int(cmd.step as i64);
        c.reply.bulk(b"limit");
        c.reply.int(0);
        c.reply.bulk(b"notes");
        c.reply.bulk(b"");
    } else {
        c.reply.array(0);
    }
    c.reply.array(cmd.subcommands.len());
    for s in cmd.subcommands {
        write_command_info(c, s);
    }
}

/// COMMAND: replies with the COMMAND INFO entry of every command, sorted by name. Extra
/// arguments are a syntax error (known subcommands are dispatched before reaching here).
fn command_all(_: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    if argv.len() > 1 {
        // Unknown subcommands are handled by resolve(); this is COMMAND alone.
        c.reply.error(errors::SYNTAX);
        return;
    }
    write_all_commands(c);
}

/// Replies with the COMMAND INFO entry of every top-level command, sorted by name.
fn write_all_commands(c: &mut Client) {
    let all = all_commands();
    c.reply.array(all.len());
    for cmd in all {
        write_command_info(c, cmd);
    }
}

/// COMMAND COUNT: replies with the number of top-level commands.
fn command_count(_: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    c.reply.int(table().len() as i64);
}

/// Finds a command or `parent|sub` by name.
fn find_command(name: &[u8]) -> Option<&'static Command> {
    let n = String::from_utf8_lossy(name).to_ascii_lowercase();
    if let Some((parent, _)) = n.split_once('|') {
        let p = table().get(parent)?;
        return p.subcommands.iter().find(|s| s.name == n);
    }
    table().get(n.as_str()).copied()
}

/// COMMAND INFO [command-name ...]: replies with the entry of each named command (or
/// `parent|sub`), nil for unknown names; with no names, all commands like COMMAND.
fn command_info(_: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    if argv.len() == 2 {
        write_all_commands(c);
        return;
    }
    c.reply.array(argv.len() - 2);
    for name in &argv[2..] {
        match find_command(name) {
            Some(cmd) => write_command_info(c, cmd),
            None => c.reply.null(),
        }
    }
}

/// COMMAND DOCS [command-name ...]: replies with a map of command name to a minimal doc map
/// (empty summary, "since" 1.0.0, group); unknown names are skipped. All commands when no
/// names are given.
fn command_docs(_: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let cmds: Vec<&'static Command> = if argv.len() == 2 {
        all_commands()
    } else {
        argv[2..].iter().filter_map(|n| find_command(n)).collect()
    };
    c.reply.map(cmds.len());
    for cmd in cmds {
        c.reply.bulk(cmd.name.as_bytes());
        c.reply.map(3);
        c.reply.bulk(b"summary");
        c.reply.bulk(b"");
        c.reply.bulk(b"since");
        c.reply.bulk(b"1.0.0");
        c.reply.bulk(b"group");
        c.reply.bulk(cmd.group.as_bytes());
    }
}

/// COMMAND LIST [FILTERBY MODULE module-name | ACLCAT category | PATTERN pattern]: replies
/// with the names of all commands and subcommands, optionally filtered. There are no
/// modules, so a MODULE filter matches nothing.
fn command_list(_: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let mut filter: Option<(Vec<u8>, Vec<u8>)> = None;
    if argv.len() == 5 && argv[2].eq_ignore_ascii_case(b"filterby") {
        filter = Some((argv[3].to_ascii_lowercase(), argv[4].clone()));
    } else if argv.len() != 2 {
        c.reply.error(errors::SYNTAX);
        return;
    }
    let mut names: Vec<&str> = Vec::new();
    for cmd in all_commands() {
        let mut all = vec![cmd];
        all.extend(cmd.subcommands.iter());
        for x in all {
            let keep = match &filter {
                None => true,
                Some((k, v)) if k == b"pattern" => {
                    crate::server::util::glob_match(v, x.name.as_bytes(), true)
                }
                Some((k, v)) if k == b"aclcat" => {
                    let cat = format!("@{}", String::from_utf8_lossy(v).to_lowercase());
                    x.acl_categories().contains(&cat.as_str())
                }
                Some((k, _)) if k == b"module" => false,
                Some(_) => {
                    c.reply.error(errors::SYNTAX);
                    return;
                }
            };
            if keep {
                names.push(x.name);
            }
        }
    }
    c.reply.array(names.len());
    for n in names {
        c.reply.bulk(n.as_bytes());
    }
}

/// COMMAND GETKEYS command [arg ...]: replies with the key arguments of the given full
/// command (see [`getkeys`]).
fn command_getkeys(_: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    getkeys(c, argv, false);
}

/// COMMAND GETKEYSANDFLAGS command [arg ...]: replies with `[key, flags]` pairs, the flags
/// being the key spec flags Redis 7.0 gives that key in this invocation (see [`getkeys`]).
fn command_getkeysandflags(_: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    getkeys(c, argv, true);
}

/// Redis's getKeysSubcommandImpl: "Invalid command specified" for an unknown command,
/// "Invalid number of arguments specified for command" for a wrong count, "The command has no
/// key arguments" for a command without keys (no key spec but NOT_KEY ones, no key finder);
/// then the keys of this invocation, an empty array when there are none and the command's keys
/// are optional (no_mandatory_keys), else "Invalid arguments specified for command".
fn getkeys(c: &mut Client, argv: &[Vec<u8>], with_flags: bool) {
    use crate::server::acl::{keyspec, keyspec_info, registry};
    let args = &argv[2..];
    let cmd = match resolve(args) {
        Ok(cmd) => cmd,
        Err(e) if e.starts_with("ERR wrong number") => {
            c.reply
                .error("ERR Invalid number of arguments specified for command");
            return;
        }
        Err(_) => {
            c.reply.error("ERR Invalid command specified");
            return;
        }
    };
    let has_keys = match registry::redis_facts(cmd.name) {
        Some((_, specs)) => specs.iter().any(|s| s.flags & keyspec::NOT_KEY == 0),
        None => cmd.first_key > 0 || cmd.get_keys.is_some(),
    };
    if !has_keys {
        c.reply.error("ERR The command has no key arguments");
        return;
    }
    // The keys as Redis's getKeysFromCommandWithSpecs finds them (the ACL uses the same).
    let keys: Vec<(usize, u16)> = if registry::redis_facts(cmd.name).is_some() {
        let reg = registry::registry();
        reg.keys_with_flags(reg.id_of(cmd), args)
    } else {
        let flags = keyspec::RW | keyspec::ACCESS | keyspec::UPDATE;
        cmd.keys_of(args).into_iter().map(|p| (p, flags)).collect()
    };
    if keys.is_empty() {
        if cmd.flags & NO_MANDATORY_KEYS != 0 {
            c.reply.array(0);
        } else {
            c.reply.error("ERR Invalid arguments specified for command");
        }
        return;
    }
    c.reply.array(keys.len());
    for (p, flags) in keys {
        if with_flags {
            c.reply.array(2);
            c.reply.bulk(&args[p]);
            keyspec_info::write_flags(&mut c.reply, flags);
        } else {
            c.reply.bulk(&args[p]);
        }
    }
}

/// COMMAND HELP: replies with the list of COMMAND subcommands as simple strings.
fn command_help(_: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    let lines = [
        "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "(no subcommand)",
        "    Return details about all Redis commands.",
        "COUNT",
        "    Return the total number of commands in this Redis server.",
        "LIST",
        "    Return a list of all commands in this Redis server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "GETKEYS <full-command>",
        "    Return the keys from a full Redis command.",
        "GETKEYSANDFLAGS <full-command>",
        "    Return the keys and the access flags from a full Redis command.",
        "HELP",
        "    Prints this help.",
    ];
    c.reply.array(lines.len());
    for l in lines {
        c.reply.simple(l);
    }
}

/// TIME: replies with the server time as a two-element array of bulk strings: Unix seconds
/// and the microseconds within the second.
fn time(_: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    let us = now_us();
    c.reply.array(2);
    c.reply.bulk(((us / 1_000_000).to_string()).as_bytes());
    c.reply.bulk(((us % 1_000_000).to_string()).as_bytes());
}

/// LASTSAVE: replies with the Unix time (seconds) of the last successful save.
fn lastsave(srv: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    c.reply.int(srv.lastsave);
}

/// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]: stops the server, saving according to the
/// mode. Like Redis 7, without NOW a master first waits up to `shutdown-timeout` for lagging
/// replicas, blocking the caller. ABORT (alone) cancels such a wait, lifting the pause and
/// failing the waiting SHUTDOWN. On success there is no reply (the connection closes); if
/// the final save fails it replies with an error and keeps running. FORCE is accepted but
/// has no effect.
fn shutdown(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let mut mode = ShutdownMode::Default;
    let (mut now, mut abort) = (false, false);
    for a in &argv[1..] {
        match &a.to_ascii_lowercase()[..] {
            b"nosave" => mode = ShutdownMode::NoSave,
            b"save" => mode = ShutdownMode::Save,
            b"now" => now = true,
            b"force" => {}
            b"abort" => abort = true,
            _ => {
                c.reply.error(errors::SYNTAX);
                return;
            }
        }
    }
    if abort {
        if argv.len() != 2 {
            c.reply.error(errors::SYNTAX);
            return;
        }
        match srv.shutdown_wait.take() {
            None => c.reply.error("ERR No shutdown in progress."),
            Some(w) => {
                crate::server::log::warning("Shutdown manually aborted.");
                srv.pause = crate::server::state::PauseKind::None;
                srv.pause_until_ms = 0;
                srv.unpause.notify_waiters();
                if let Some(id) = w.client {
                    srv.push_to(id, |r| r.error(errors::SHUTDOWN_FAILED));
                    if let Some(wc) = srv.clients.get_mut(&id) {
                        wc.blocked = None;
                    }
                }
                c.reply.ok();
            }
        }
        return;
    }
    // Redis 7: a master first waits (shutdown-timeout) for lagging replicas.
    if !now
        && srv.shutdown_wait.is_none()
        && crate::server::replication::master::begin_shutdown_wait(srv, mode, Some(c.id))
    {
        c.blocked = Some(crate::server::client::Blocked::Shutdown);
        return;
    }
    match crate::server::rdb::finish_shutdown(srv, mode) {
        Ok(()) => {
            srv.exit_now = true;
            srv.wake_all.notify_one();
            c.close_asap = true;
        }
        Err(e) => {
            crate::server::log::warning(&e);
            c.reply.error(errors::SHUTDOWN_FAILED);
        }
    }
}

/// MONITOR: turns this connection into a monitor, fed a line for each command the server
/// executes (except admin and SKIP_MONITOR commands; see `call`). Replies OK the first
/// time; repeated calls are silently ignored.
fn monitor(srv: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    if c.monitor {
        return;
    }
    c.monitor = true;
    srv.monitors.push(c.id);
    c.reply.ok();
}

/// SLOWLOG GET [count]: replies with up to `count` slow log entries (10 by default, -1 for
/// all), each `[id, timestamp, microseconds, [args], client-addr, client-name]`.
fn slowlog_get(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let mut n = 10usize;
    if argv.len() == 3 {
        match parse_i64(&argv[2]) {
            Some(-1) => n = usize::MAX,
            Some(v) if v >= 0 => n = v as usize,
            _ => {
                c.reply
                    .error("ERR count should be greater than or equal to -1");
                return;
            }
        }
    } else if argv.len() > 3 {
        c.reply
            .error("ERR wrong number of arguments for 'slowlog|get' command");
        return;
    }
    let entries: Vec<crate::server::slowlog::SlowlogEntry> =
        srv.slowlog.entries.iter().take(n).cloned().collect();
    c.reply.array(entries.len());
    for e in entries {
        c.reply.array(6);
        c.reply.int(e.id as i64);
        c.reply.int(e.time);
        c.reply.int(e.usec as i64);
        c.reply.array(e.argv.len());
        for a in &e.argv {
            c.reply.bulk(a);
        }
        c.reply.bulk(e.addr.as_bytes());
        c.reply.bulk(&e.name);
    }
}

/// SLOWLOG LEN: replies with the number of entries in the slow log.
fn slowlog_len(srv: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    c.reply.int(srv.slowlog.entries.len() as i64);
}

/// SLOWLOG RESET: empties the slow log. Replies OK.
fn slowlog_reset(srv: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    srv.slowlog.entries.clear();
    c.reply.ok();
}

/// SLOWLOG HELP: replies with the list of SLOWLOG subcommands as simple strings.
fn slowlog_help(_: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    let lines = [
        "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET [<count>]",
        "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
        "    Entries are made of:",
        "    id, timestamp, time in microseconds, arguments array, client IP and port,",
        "    client name",
        "LEN",
        "    Return the length of the slowlog.",
        "RESET",
        "    Reset the slowlog.",
        "HELP",
        "    Prints this help.",
    ];
    c.reply.array(lines.len());
    for l in lines {
        c.reply.simple(l);
    }
}
