//! The ACL command (Redis 7.0): SETUSER, GETUSER, DELUSER, LIST, USERS,
//! WHOAMI, CAT, GENPASS, LOG, DRYRUN, LOAD, SAVE and HELP, with Redis's
//! replies and error texts, over `server::acl`.
use super::*;
use crate::server::acl::registry::registry;
use crate::server::acl::selector::Denied;
use crate::server::acl::{self, categories, file, user};
use crate::server::client::Client;
use crate::server::state::Server;
use crate::server::util::parse_i64;

pub static COMMANDS: &[Command] = &[Command::container("acl", ACL_SUBCOMMANDS)
    .arity(-2)
    .group("server")];

const ADMIN_FLAGS: u64 = ADMIN | NOSCRIPT | LOADING | STALE;
const PLAIN_FLAGS: u64 = NOSCRIPT | LOADING | STALE;

static ACL_SUBCOMMANDS: &[Command] = &[
    Command::new("acl|cat", acl_cat)
        .arity(-2)
        .group("server")
        .flags(PLAIN_FLAGS),
    Command::new("acl|deluser", acl_deluser)
        .arity(-3)
        .group("server")
        .flags(ADMIN_FLAGS),
    Command::new("acl|dryrun", acl_dryrun)
        .arity(-4)
        .group("server")
        .flags(ADMIN_FLAGS),
    Command::new("acl|genpass", acl_genpass)
        .arity(-2)
        .group("server")
        .flags(PLAIN_FLAGS),
    Command::new("acl|getuser", acl_getuser)
        .arity(3)
        .group("server")
        .flags(ADMIN_FLAGS),
    Command::new("acl|help", acl_help)
        .arity(2)
        .group("server")
        .flags(LOADING | STALE),
    Command::new("acl|list", acl_list)
        .arity(2)
        .group("server")
        .flags(ADMIN_FLAGS),
    Command::new("acl|load", acl_load)
        .arity(2)
        .group("server")
        .flags(ADMIN_FLAGS),
    Command::new("acl|log", acl_log)
        .arity(-2)
        .group("server")
        .flags(ADMIN_FLAGS),
    Command::new("acl|save", acl_save)
        .arity(2)
        .group("server")
        .flags(ADMIN_FLAGS),
    Command::new("acl|setuser", acl_setuser)
        .arity(-3)
        .group("server")
        .flags(ADMIN_FLAGS),
    Command::new("acl|users", acl_users)
        .arity(2)
        .group("server")
        .flags(ADMIN_FLAGS),
    Command::new("acl|whoami", acl_whoami)
        .arity(2)
        .group("server")
        .flags(PLAIN_FLAGS),
];

/// Redis's addReplySubcommandSyntaxError for ACL: the subcommand as typed.
fn subcommand_syntax_error(c: &mut Client, argv: &[Vec<u8>]) {
    c.reply.error(&format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try ACL HELP.",
        String::from_utf8_lossy(&argv[1])
    ));
}

const NO_ACLFILE: &str = "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.";

/// ACL SETUSER username [rule ...]: creates the user (off, no permissions)
/// if needed and applies the rules in order, all or nothing. Errors as
/// Redis: a bad username, an unclosed selector, or the first bad rule.
/// Subscribers of the user whose channels are no longer allowed are disconnected.
fn acl_setuser(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let name = &argv[2];
    if name.iter().any(|&b| b == b' ' || b == 0) {
        c.reply
            .error("ERR Usernames can't contain spaces or null characters");
        return;
    }
    let rules = match user::merge_selector_args(&argv[3..]) {
        Ok(r) => r,
        Err(start) => {
            c.reply.error(&format!(
                "ERR Unmatched parenthesis in acl selector starting at '{}'.",
                String::from_utf8_lossy(&start)
            ));
            return;
        }
    };
    let all = acl::pubsub_default_all(srv);
    let existed = srv.acl.users.contains_key(name);
    let mut u = srv
        .acl
        .users
        .get(name)
        .cloned()
        .unwrap_or_else(|| user::User::new(name, all));
    for r in &rules {
        if let Err(e) = u.apply(r, all) {
            c.reply.error(&format!(
                "ERR Error in ACL SETUSER modifier '{}': {}",
                String::from_utf8_lossy(r),
                e.text()
            ));
            return;
        }
    }
    srv.acl.users.insert(name.clone(), u);
    if existed {
        acl::kill_revoked_subscribers(srv, c, name);
    }
    c.reply.ok();
}

/// ACL GETUSER username: the user's flags, password hashes, commands, keys,
/// channels and selectors as a map; a null reply for an unknown user.
fn acl_getuser(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let Some(u) = srv.acl.users.get(&argv[2]) else {
        c.reply.null();
        return;
    };
    let r = &mut c.reply;
    r.map(6);
    r.bulk(b"flags");
    let flags = u.flag_names();
    r.array(flags.len());
    for f in flags {
        r.bulk(f.as_bytes());
    }
    r.bulk(b"passwords");
    r.array(u.passwords.len());
    for p in &u.passwords {
        r.bulk(p.as_bytes());
    }
    r.bulk(b"commands");
    r.bulk(u.root.describe_commands().as_bytes());
    r.bulk(b"keys");
    r.bulk(u.root.describe_keys().as_bytes());
    r.bulk(b"channels");
    r.bulk(u.root.describe_channels().as_bytes());
    r.bulk(b"selectors");
    r.array(u.selectors.len());
    for s in &u.selectors {
        r.map(3);
        r.bulk(b"commands");
        r.bulk(s.describe_commands().as_bytes());
        r.bulk(b"keys");
        r.bulk(s.describe_keys().as_bytes());
        r.bulk(b"channels");
        r.bulk(s.describe_channels().as_bytes());
    }
}

/// ACL DELUSER username [username ...]: deletes the users, replying how many
/// existed; `default` cannot be removed. Their clients are disconnected
/// (the caller after this reply).
fn acl_deluser(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let mut gone = Vec::new();
    for name in &argv[2..] {
        if name == b"default" {
            acl::disconnect_users(srv, c, &gone);
            c.reply.error("ERR The 'default' user cannot be removed");
            return;
        }
        if srv.acl.users.remove(name).is_some() {
            gone.push(name.clone());
        }
    }
    acl::disconnect_users(srv, c, &gone);
    c.reply.int(gone.len() as i64);
}

/// ACL LIST: every user as an ACL file line (`user <name> <rules>`).
fn acl_list(srv: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    c.reply.array(srv.acl.users.len());
    for u in srv.acl.users.values() {
        let line = format!("user {} {}", String::from_utf8_lossy(&u.name), u.describe());
        c.reply.bulk(line.as_bytes());
    }
}

/// ACL USERS: the user names, sorted.
fn acl_users(srv: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    c.reply.array(srv.acl.users.len());
    for n in srv.acl.users.keys() {
        c.reply.bulk(n);
    }
}

/// ACL WHOAMI: the user this connection runs as.
fn acl_whoami(_: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    let name = c.user.clone();
    c.reply.bulk(&name);
}

/// ACL CAT [category]: the category names, or the commands (and
/// subcommands, as `parent|sub`) of one category.
fn acl_cat(_: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    if argv.len() == 2 {
        c.reply.array(categories::NAMES.len());
        for n in categories::NAMES {
            c.reply.bulk(n.as_bytes());
        }
        return;
    }
    if argv.len() > 3 {
        subcommand_syntax_error(c, argv);
        return;
    }
    let Some(bit) = categories::by_name(&argv[2]) else {
        c.reply.error(&format!(
            "ERR Unknown category '{}'",
            String::from_utf8_lossy(&argv[2])
        ));
        return;
    };
    let names: Vec<&str> = registry()
        .entries
        .iter()
        .filter(|e| e.cats & bit != 0)
        .map(|e| e.name)
        .collect();
    c.reply.array(names.len());
    for n in names {
        c.reply.bulk(n.as_bytes());
    }
}

/// ACL GENPASS [bits]: a random password of `bits` bits (256 by default) as hex.
fn acl_genpass(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    if argv.len() > 3 {
        subcommand_syntax_error(c, argv);
        return;
    }
    let bits = match argv.get(2) {
        None => 256,
        Some(a) => match parse_i64(a) {
            Some(n) if (1..=4096).contains(&n) => n,
            Some(_) => {
                c.reply.error("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096");
                return;
            }
            None => {
                c.reply.error(crate::server::resp::errors::NOT_INTEGER);
                return;
            }
        },
    };
    let chars = ((bits + 3) / 4) as usize;
    let mut bytes = vec![0u8; chars.div_ceil(2)];
    if !read_urandom(&mut bytes) {
        for b in bytes.iter_mut() {
            *b = srv.rng.next_u64() as u8;
        }
    }
    let mut s: String = bytes.iter().map(|b| format!("{:02x}", b)).collect();
    s.truncate(chars);
    c.reply.bulk(s.as_bytes());
}

/// Fills `buf` from the kernel's random source; false if it cannot be read.
fn read_urandom(buf: &mut [u8]) -> bool {
    use std::io::Read;
    std::fs::File::open("/dev/urandom").is_ok_and(|mut f| f.read_exact(buf).is_ok())
}

/// ACL LOG [count | RESET]: the recent denials and failed AUTHs, newest
/// first (up to `count`, 10 by default), or clears the log.
fn acl_log(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    if argv.len() > 3 {
        subcommand_syntax_error(c, argv);
        return;
    }
    let mut count: i64 = 10;
    if let Some(a) = argv.get(2) {
        if a.eq_ignore_ascii_case(b"reset") {
            srv.acl.log.entries.clear();
            c.reply.ok();
            return;
        }
        match parse_i64(a) {
            Some(n) => count = n,
            None => {
                c.reply.error(crate::server::resp::errors::NOT_INTEGER);
                return;
            }
        }
    }
    let now = crate::server::util::now_ms();
    let n = (count.max(0) as usize).min(srv.acl.log.entries.len());
    c.reply.array(n);
    for e in srv.acl.log.entries.iter().take(n) {
        let r = &mut c.reply;
        r.map(7);
        r.bulk(b"count");
        r.int(e.count as i64);
        r.bulk(b"reason");
        r.bulk(e.reason.as_bytes());
        r.bulk(b"context");
        r.bulk(e.context.as_bytes());
        r.bulk(b"object");
        r.bulk(&e.object);
        r.bulk(b"username");
        r.bulk(&e.username);
        r.bulk(b"age-seconds");
        r.double((now - e.ctime_ms) as f64 / 1000.0);
        r.bulk(b"client-info");
        r.bulk(e.client_info.as_bytes());
    }
}

/// ACL DRYRUN username command [arg ...]: whether the user could run the
/// command: OK, or a bulk string saying which command, key or channel is denied.
fn acl_dryrun(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let Some(u) = srv.acl.users.get(&argv[2]) else {
        c.reply.error(&format!(
            "ERR User '{}' not found",
            String::from_utf8_lossy(&argv[2])
        ));
        return;
    };
    let line = &argv[3..];
    let cmd = match resolve(line) {
        Ok(cmd) => cmd,
        Err(e) if e.starts_with("ERR wrong number") => {
            c.reply.error(&e);
            return;
        }
        Err(_) => {
            c.reply.error(&format!(
                "ERR Command '{}' not found",
                String::from_utf8_lossy(&line[0])
            ));
            return;
        }
    };
    let id = registry().id_of(cmd);
    match u.check(id, line) {
        Ok(()) => c.reply.ok(),
        Err((d, pos)) => {
            let msg = match d {
                Denied::Cmd => format!(
                    "This user has no permissions to run the '{}' command",
                    cmd.name
                ),
                Denied::Key => format!(
                    "This user has no permissions to access the '{}' key",
                    String::from_utf8_lossy(&line[pos])
                ),
                Denied::Channel => format!(
                    "This user has no permissions to access the '{}' channel",
                    String::from_utf8_lossy(&line[pos])
                ),
            };
            c.reply.bulk(msg.as_bytes());
        }
    }
}

/// ACL LOAD: replaces the users with the ACL file's (all or nothing); the
/// clients of every user but `default` are disconnected, as Redis does.
fn acl_load(srv: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    let path = srv.config.get("aclfile").unwrap_or_default();
    if path.is_empty() {
        c.reply.error(NO_ACLFILE);
        return;
    }
    match file::load_acl_file(&path, acl::pubsub_default_all(srv)) {
        Ok(mut users) => {
            acl::default_if_missing(&mut users);
            let old: Vec<Vec<u8>> = srv
                .acl
                .users
                .keys()
                .filter(|n| n.as_slice() != b"default")
                .cloned()
                .collect();
            srv.acl.users = users;
            acl::disconnect_users(srv, c, &old);
            c.reply.ok();
        }
        Err(e) => c.reply.error(&format!("ERR {}", e)),
    }
}

/// ACL SAVE: writes the users to the ACL file.
fn acl_save(srv: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    let path = srv.config.get("aclfile").unwrap_or_default();
    if path.is_empty() {
        c.reply.error(NO_ACLFILE);
        return;
    }
    match file::save_acl_file(&path, &srv.acl.users) {
        Ok(()) => c.reply.ok(),
        Err(e) => {
            crate::server::log::warning(&format!("Opening temp ACL file for ACL SAVE: {}", e));
            c.reply.error("ERR There was an error trying to save the ACLs. Please check the server logs for more information");
        }
    }
}

/// ACL HELP: the subcommand list, as Redis prints it.
fn acl_help(_: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    let lines = [
        "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CAT [<category>]",
        "    List all commands that belong to <category>, or all command categories",
        "    when no category is specified.",
        "DELUSER <username> [<username> ...]",
        "    Delete a list of users.",
        "DRYRUN <username> <command> [<arg> ...]",
        "    Returns whether the user can execute the given command without executing the command.",
        "GETUSER <username>",
        "    Get the user's details.",
        "GENPASS [<bits>]",
        "    Generate a secure 256-bit user password. The optional `bits` argument can",
        "    be used to specify a different size.",
        "LIST",
        "    Show users details in config file format.",
        "LOAD",
        "    Reload users from the ACL file.",
        "LOG [<count> | RESET]",
        "    Show the ACL log entries.",
        "SAVE",
        "    Save the current config to the ACL file.",
        "SETUSER <username> <attribute> [<attribute> ...]",
        "    Create or modify a user with the specified attributes.",
        "USERS",
        "    List all the registered usernames.",
        "WHOAMI",
        "    Return the current connection username.",
        "HELP",
        "    Prints this help.",
    ];
    c.reply.array(lines.len());
    for l in lines {
        c.reply.simple(l);
    }
}
