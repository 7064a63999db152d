//! Functions: FCALL, FCALL_RO and FUNCTION LOAD / DELETE / FLUSH / LIST / DUMP /
//! RESTORE / STATS / KILL / HELP (Redis 7.0's functions.c). Commands that change
//! the libraries count as a change (`dirty`), so `call` replicates them verbatim;
//! full syncs and RDB files carry the libraries as FUNCTION2 records.

use super::*;
use crate::server::client::Client;
use crate::server::scripting::functions::{self as fx};
use crate::server::scripting::redis_lib::with_ctx;
use crate::server::scripting::{self as sc, busy};
use crate::server::state::Server;

pub static COMMANDS: &[Command] = &[
    Command::new("fcall", fcall)
        .arity(-3)
        .group("scripting")
        .flags(NOSCRIPT | SKIP_MONITOR | MAY_REPLICATE | NO_MANDATORY_KEYS | STALE),
    Command::new("fcall_ro", fcall_ro)
        .arity(-3)
        .group("scripting")
        .flags(NOSCRIPT | SKIP_MONITOR | NO_MANDATORY_KEYS | STALE | READONLY),
    Command::container("function", FUNCTION_SUBCOMMANDS)
        .arity(-2)
        .group("scripting"),
];

static FUNCTION_SUBCOMMANDS: &[Command] = &[
    Command::new("function|load", function_load)
        .arity(-3)
        .group("scripting")
        .flags(WRITE | DENYOOM | NOSCRIPT),
    Command::new("function|delete", function_delete)
        .arity(3)
        .group("scripting")
        .flags(WRITE | NOSCRIPT),
    Command::new("function|flush", function_flush)
        .arity(-2)
        .group("scripting")
        .flags(WRITE | NOSCRIPT),
    Command::new("function|list", function_list)
        .arity(-2)
        .group("scripting")
        .flags(NOSCRIPT),
    Command::new("function|dump", function_dump)
        .arity(2)
        .group("scripting")
        .flags(NOSCRIPT),
    Command::new("function|restore", function_restore)
        .arity(-3)
        .group("scripting")
        .flags(WRITE | DENYOOM | NOSCRIPT),
    Command::new("function|stats", function_stats)
        .arity(2)
        .group("scripting")
        .flags(NOSCRIPT | ALLOW_BUSY),
    Command::new("function|kill", function_kill)
        .arity(2)
        .group("scripting")
        .flags(NOSCRIPT | ALLOW_BUSY),
    Command::new("function|help", function_help)
        .arity(2)
        .group("scripting")
        .flags(LOADING | STALE),
];

/// FCALL function numkeys [key ...] [arg ...]: runs a loaded function with the keys and
/// arguments as its two table arguments; replies with its return value.
fn fcall(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    fcall_generic(srv, c, argv, false);
}

/// FCALL_RO: FCALL of a function that may not write (it must have the no-writes flag).
fn fcall_ro(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    fcall_generic(srv, c, argv, true);
}

fn fcall_generic(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>], ro: bool) {
    if !srv.monitors.is_empty() {
        feed_monitors(srv, c, c.db, argv);
    }
    let name = String::from_utf8_lossy(&argv[1]).into_owned();
    let Some(f) = srv.scripting.functions.get(&name) else {
        c.reply.error("ERR Function not found");
        return;
    };
    let (func, flags) = (f.func.clone(), f.flags);
    let Some(numkeys) = crate::server::util::parse_i64(&argv[2]) else {
        c.reply.error("ERR Bad number of keys provided");
        return;
    };
    if numkeys > argv.len() as i64 - 3 {
        c.reply
            .error("ERR Number of keys can't be greater than number of args");
        return;
    }
    if numkeys < 0 {
        c.reply.error("ERR Number of keys can't be negative");
        return;
    }
    let keys = &argv[3..3 + numkeys as usize];
    let args = &argv[3 + numkeys as usize..];
    super::scripting::run_script(srv, c, &func, flags, ro, &name, keys, args, argv, false);
}

/// FUNCTION LOAD [REPLACE] code: compiles the library and registers its functions;
/// replies with the library name.
fn function_load(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let mut replace = false;
    let mut pos = 2;
    while pos < argv.len() - 1 {
        if argv[pos].eq_ignore_ascii_case(b"replace") {
            replace = true;
            pos += 1;
            continue;
        }
        c.reply.error(&format!(
            "ERR Unknown option given: {}",
            String::from_utf8_lossy(&argv[pos])
        ));
        return;
    }
    if pos >= argv.len() {
        c.reply.error("ERR Function code is missing");
        return;
    }
    match fx::create_library(&mut srv.scripting, &argv[pos], replace) {
        Ok(name) => {
            srv.add_dirty(1);
            c.reply.bulk(name.as_bytes());
        }
        Err(e) => c.reply.error(&format!("ERR {}", e)),
    }
}

/// FUNCTION DELETE library: removes a library and its functions.
fn function_delete(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let name = String::from_utf8_lossy(&argv[2]).into_owned();
    if srv.scripting.functions.remove(&name).is_none() {
        c.reply.error("ERR Library not found");
        return;
    }
    srv.add_dirty(1);
    c.reply.ok();
}

/// FUNCTION FLUSH [ASYNC|SYNC]: removes every library.
fn function_flush(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    if argv.len() > 3 {
        c.reply.error(
            "ERR unknown subcommand or wrong number of arguments for 'flush'. Try FUNCTION HELP.",
        );
        return;
    }
    if argv.len() == 3
        && !argv[2].eq_ignore_ascii_case(b"sync")
        && !argv[2].eq_ignore_ascii_case(b"async")
    {
        c.reply
            .error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
        return;
    }
    srv.scripting.functions = Default::default();
    srv.add_dirty(1);
    c.reply.ok();
}

/// FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE]: the libraries (matching the
/// pattern) with their engine, functions (name, description, flags) and code.
fn function_list(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let mut with_code = false;
    let mut pattern: Option<&[u8]> = None;
    let mut i = 2;
    while i < argv.len() {
        // Each option may be given once; a repeat is an unknown argument, as in Redis.
        if argv[i].eq_ignore_ascii_case(b"withcode") && !with_code {
            with_code = true;
        } else if argv[i].eq_ignore_ascii_case(b"libraryname") && pattern.is_none() {
            if i + 1 >= argv.len() {
                c.reply.error("ERR library name argument was not given");
                return;
            }
            i += 1;
            pattern = Some(&argv[i]);
        } else {
            c.reply.error(&format!(
                "ERR Unknown argument {}",
                String::from_utf8_lossy(&argv[i])
            ));
            return;
        }
        i += 1;
    }
    let libs: Vec<&fx::Library> = srv
        .scripting
        .functions
        .libs
        .values()
        .filter(|l| {
            pattern.is_none_or(|p| crate::server::util::glob_match(p, l.name.as_bytes(), true))
        })
        .collect();
    c.reply.array(libs.len());
    for l in libs {
        c.reply.map(if with_code { 4 } else { 3 });
        c.reply.bulk(b"library_name");
        c.reply.bulk(l.name.as_bytes());
        c.reply.bulk(b"engine");
        c.reply.bulk(b"LUA");
        c.reply.bulk(b"functions");
        c.reply.array(l.functions.len());
        for f in &l.functions {
            c.reply.map(3);
            c.reply.bulk(b"name");
            c.reply.bulk(f.name.as_bytes());
            c.reply.bulk(b"description");
            match &f.description {
                Some(d) => c.reply.bulk(d),
                None => c.reply.null(),
            }
            c.reply.bulk(b"flags");
            let names: Vec<&str> = sc::FLAG_NAMES
                .iter()
                .filter(|(b, _)| f.flags & b != 0)
                .map(|(_, n)| *n)
                .collect();
            c.reply.set(names.len());
            for n in names {
                c.reply.simple(n);
            }
        }
        if with_code {
            c.reply.bulk(b"library_code");
            c.reply.bulk(&l.code);
        }
    }
}

/// FUNCTION DUMP: a payload of every library for FUNCTION RESTORE.
fn function_dump(srv: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    let payload = fx::dump(&srv.scripting.functions.codes());
    c.reply.bulk(&payload);
}

/// FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE]: loads the libraries of a DUMP
/// payload; APPEND (default) fails on an existing library, REPLACE replaces it,
/// FLUSH removes all libraries first.
fn function_restore(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    #[derive(PartialEq)]
    enum Policy {
        Append,
        Replace,
        Flush,
    }
    if argv.len() > 4 {
        c.reply.error(
            "ERR unknown subcommand or wrong number of arguments for 'restore'. Try FUNCTION HELP.",
        );
        return;
    }
    let policy = match argv.get(3) {
        None => Policy::Append,
        Some(p) if argv.len() == 4 && p.eq_ignore_ascii_case(b"append") => Policy::Append,
        Some(p) if argv.len() == 4 && p.eq_ignore_ascii_case(b"replace") => Policy::Replace,
        Some(p) if argv.len() == 4 && p.eq_ignore_ascii_case(b"flush") => Policy::Flush,
        Some(_) => {
            c.reply.error(
                "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.",
            );
            return;
        }
    };
    let codes = match fx::parse_dump(&argv[2]) {
        Ok(c) => c,
        Err(e) => {
            c.reply.error(&format!("ERR {}", e));
            return;
        }
    };
    // Work on a copy so that a failure leaves the libraries as they were.
    let saved = srv.scripting.functions.codes();
    if policy == Policy::Flush {
        srv.scripting.functions = Default::default();
    }
    let mut failure = None;
    for code in &codes {
        if policy == Policy::Append {
            if let Ok((_, name, _)) = fx::parse_metadata(code) {
                if srv.scripting.functions.has_library(&name) {
                    failure = Some(format!("Library {} already exists", name));
                    break;
                }
            }
        }
        if let Err(e) = fx::create_library(&mut srv.scripting, code, policy != Policy::Append) {
            failure = Some(e);
            break;
        }
    }
    if let Some(e) = failure {
        srv.scripting.functions = Default::default();
        for code in &saved {
            let _ = fx::create_library(&mut srv.scripting, code, true);
        }
        c.reply.error(&format!("ERR {}", e));
        return;
    }
    srv.add_dirty(1);
    c.reply.ok();
}

/// FUNCTION STATS: the running function (name, command, duration) or null, and the
/// number of libraries and functions of the LUA engine.
fn function_stats(srv: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    c.reply.map(2);
    c.reply.bulk(b"running_script");
    let running = with_ctx(|ctx| {
        // SAFETY: the argv of the running script's command outlives the run.
        let argv: Vec<Vec<u8>> = unsafe { (*ctx.argv).to_vec() };
        (
            ctx.funcname.clone(),
            argv,
            ctx.start.elapsed().as_millis() as i64,
        )
    });
    match running {
        Some((name, argv, ms)) => {
            c.reply.map(3);
            c.reply.bulk(b"name");
            c.reply.bulk(name.as_bytes());
            c.reply.bulk(b"command");
            c.reply.array(argv.len());
            for a in &argv {
                c.reply.bulk(a);
            }
            c.reply.bulk(b"duration_ms");
            c.reply.int(ms);
        }
        None => c.reply.null(),
    }
    c.reply.bulk(b"engines");
    c.reply.map(1);
    c.reply.bulk(b"LUA");
    c.reply.map(2);
    c.reply.bulk(b"libraries_count");
    c.reply.int(srv.scripting.functions.libs.len() as i64);
    c.reply.bulk(b"functions_count");
    c.reply.int(srv.scripting.functions.function_count() as i64);
}

/// FUNCTION KILL: stops the running read-only function; NOTBUSY when none runs.
fn function_kill(_: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    match busy::kill_reply(false) {
        Ok(()) => c.reply.ok(),
        Err(e) => c.reply.error(e),
    }
}

/// FUNCTION HELP: the list of FUNCTION subcommands, as Redis prints it.
fn function_help(_: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    let lines = [
        "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "LOAD [REPLACE] <FUNCTION CODE>",
        "    Create a new library with the given library name and code.",
        "DELETE <LIBRARY NAME>",
        "    Delete the given library.",
        "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
        "    Return general information on all the libraries:",
        "    * Library name",
        "    * The engine used to run the Library",
        "    * Library description",
        "    * Functions list",
        "    * Library code (if WITHCODE is given)",
        "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
        "STATS",
        "    Return information about the current function running:",
        "    * Function name",
        "    * Command used to run the function",
        "    * Duration in MS that the function is running",
        "    If no function is running, return nil",
        "    In addition, returns a list of available engines.",
        "KILL",
        "    Kill the current running function.",
        "FLUSH [ASYNC|SYNC]",
        "    Delete all the libraries.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the libraries.",
        "    * SYNC: Synchronously flush the libraries.",
        "DUMP",
        "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
        "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
        "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
        "    control how to handle existing libraries (default APPEND):",
        "    * FLUSH: delete all existing libraries.",
        "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
        "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
        "      libraries with the new libraries (notice that even on this option there is a chance of failure",
        "      in case of functions name collision with another library).",
        "HELP",
        "    Prints this help.",
    ];
    c.reply.array(lines.len());
    for l in lines {
        c.reply.simple(l);
    }
}
