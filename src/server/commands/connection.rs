//! Connection commands: PING, ECHO, QUIT, RESET, AUTH, HELLO, SELECT and CLIENT.
use super::*;
use crate::server::client::{Blocked, Client, ClientKind, ReplyMode};
use crate::server::resp::errors;
use crate::server::state::{PauseKind, Server};
use crate::server::util::{now_ms, parse_i64};

pub static COMMANDS: &[Command] = &[
    Command::new("ping", ping)
        .arity(-1)
        .group("connection")
        .flags(FAST | SENTINEL),
    Command::new("echo", echo)
        .arity(2)
        .group("connection")
        .flags(LOADING | STALE | FAST),
    Command::new("quit", quit)
        .arity(-1)
        .group("connection")
        .flags(ALLOW_BUSY | NOSCRIPT | NO_AUTH | LOADING | STALE | FAST),
    Command::new("reset", reset)
        .arity(1)
        .group("connection")
        .flags(NOSCRIPT | LOADING | STALE | NO_AUTH | FAST | ALLOW_BUSY),
    Command::new("auth", auth)
        .arity(-2)
        .group("connection")
        .flags(NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY),
    Command::new("hello", hello)
        .arity(-1)
        .group("connection")
        .flags(NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY),
    Command::new("select", select)
        .arity(2)
        .group("connection")
        .flags(LOADING | STALE | FAST),
    Command::container("client", CLIENT_SUBCOMMANDS)
        .arity(-2)
        .group("connection"),
];

static CLIENT_SUBCOMMANDS: &[Command] = &[
    Command::new("client|id", client_id)
        .arity(2)
        .group("connection")
        .flags(NOSCRIPT | LOADING | STALE),
    Command::new("client|setname", client_setname)
        .arity(3)
        .group("connection")
        .flags(NOSCRIPT | LOADING | STALE),
    Command::new("client|getname", client_getname)
        .arity(2)
        .group("connection")
        .flags(NOSCRIPT | LOADING | STALE),
    Command::new("client|list", client_list)
        .arity(-2)
        .group("connection")
        .flags(ADMIN | NOSCRIPT | LOADING | STALE),
    Command::new("client|info", client_info)
        .arity(2)
        .group("connection")
        .flags(NOSCRIPT | LOADING | STALE),
    Command::new("client|kill", client_kill)
        .arity(-3)
        .group("connection")
        .flags(ADMIN | NOSCRIPT | LOADING | STALE),
    Command::new("client|pause", client_pause)
        .arity(-3)
        .group("connection")
        .flags(ADMIN | NOSCRIPT | LOADING | STALE),
    Command::new("client|unpause", client_unpause)
        .arity(2)
        .group("connection")
        .flags(ADMIN | NOSCRIPT | LOADING | STALE),
    Command::new("client|no-evict", client_no_evict)
        .arity(3)
        .group("connection")
        .flags(ADMIN | NOSCRIPT | LOADING | STALE),
    Command::new("client|unblock", client_unblock)
        .arity(-3)
        .group("connection")
        .flags(ADMIN | NOSCRIPT | LOADING | STALE),
    Command::new("client|reply", client_reply)
        .arity(3)
        .group("connection")
        .flags(NOSCRIPT | LOADING | STALE),
    Command::new("client|getredir", client_getredir)
        .arity(2)
        .group("connection")
        .flags(NOSCRIPT | LOADING | STALE),
    Command::new("client|tracking", client_tracking)
        .arity(-3)
        .group("connection")
        .flags(NOSCRIPT | LOADING | STALE),
    Command::new("client|caching", client_caching)
        .arity(3)
        .group("connection")
        .flags(NOSCRIPT | LOADING | STALE),
    Command::new("client|trackinginfo", client_trackinginfo)
        .arity(2)
        .group("connection")
        .flags(NOSCRIPT | LOADING | STALE),
    Command::new("client|help", client_help)
        .arity(2)
        .group("connection")
        .flags(LOADING | STALE),
];

/// PING [message]: replies PONG, or the message as a bulk string. In a pub/sub
/// context (RESP2 subscriber) it replies with the two-element array `["pong", message]`
/// (empty message if none), as Redis does. More than one argument is an arity error.
fn ping(_: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    if argv.len() > 2 {
        c.reply
            .error("ERR wrong number of arguments for 'ping' command");
        return;
    }
    if c.in_pubsub_context() {
        c.reply.array(2);
        c.reply.bulk(b"pong");
        c.reply.bulk(argv.get(1).map(|v| &v[..]).unwrap_or(b""));
    } else if let Some(m) = argv.get(1) {
        c.reply.bulk(m);
    } else {
        c.reply.simple("PONG");
    }
}

/// ECHO message: replies with `message` as a bulk string.
fn echo(_: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    c.reply.bulk(&argv[1]);
}

/// QUIT: replies OK and closes the connection once the reply has been written.
fn quit(_: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    c.reply.ok();
    c.close_after_reply = true;
}

/// RESET: discards any MULTI, unwatches all keys, leaves every pub/sub channel and pattern,
/// turns client-side caching off,
/// stops MONITOR, selects DB 0, clears the name, switches back to RESP2, turns CLIENT REPLY
/// and NO-EVICT back to their defaults and de-authenticates the connection if a
/// the default user needs a password, and makes it run as `default` again. Replies with the simple string RESET.
fn reset(srv: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    super::transactions::discard_transaction(srv, c);
    super::transactions::unwatch_all(srv, c);
    super::pubsub::reset(srv, c);
    crate::server::tracking::disable(srv, c.id);
    if c.monitor {
        c.monitor = false;
        srv.monitors.retain(|&x| x != c.id);
    }
    c.db = 0;
    c.name = None;
    c.reply.resp3 = false;
    c.reply_mode = ReplyMode::On;
    c.no_evict = false;
    c.user = b"default".to_vec();
    c.authenticated = !srv.acl.auth_required();
    c.reply.simple("RESET");
}

/// Authenticates `c` as `user` with `pass` (Redis's ACLAuthenticateUser):
/// on success the connection runs as that user; on failure an ACL LOG
/// "auth" entry is added. Returns whether it succeeded.
fn authenticate(srv: &mut Server, c: &mut Client, typed: &[u8], user: &[u8], pass: &[u8]) -> bool {
    if srv.acl.check_credentials(user, pass) {
        c.user = user.to_vec();
        c.authenticated = true;
        true
    } else {
        crate::server::acl::log_auth_failure(srv, c, typed, user);
        false
    }
}

/// AUTH [username] password: authenticates the connection as an ACL user
/// (`default` when no username is given). Replies OK, or WRONGPASS on a bad
/// pair or a disabled user (logged in ACL LOG). The one-argument form while
/// the default user is nopass is an error, as in Redis.
fn auth(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    if argv.len() > 3 {
        c.reply.error(errors::SYNTAX);
        return;
    }
    let (user, pass) = if argv.len() == 2 {
        (None, &argv[1])
    } else {
        (Some(&argv[1][..]), &argv[2])
    };
    if user.is_none() && srv.acl.default_user().nopass {
        c.reply.error("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?");
        return;
    }
    if authenticate(srv, c, &argv[0], user.unwrap_or(b"default"), pass) {
        c.reply.ok();
    } else {
        c.reply
            .error("WRONGPASS invalid username-password pair or user is disabled.");
    }
}

/// HELLO [protover [AUTH username password] [SETNAME clientname]]: optionally switches the
/// protocol to RESP2/RESP3, authenticates and names the connection, then replies with the
/// server info map (server, version, proto, id, mode, role, modules). Checks run in Redis's
/// order: bad version (NOPROTO), option syntax, AUTH, then NOAUTH if still not authenticated.
fn hello(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let mut ver = None;
    let mut i = 1;
    if argv.len() >= 2 {
        match parse_i64(&argv[1]) {
            Some(v) => ver = Some(v),
            None => {
                c.reply
                    .error("ERR Protocol version is not an integer or out of range");
                return;
            }
        }
        i = 2;
        if ver.is_some_and(|v| !(2..=3).contains(&v)) {
            c.reply.error("NOPROTO unsupported protocol version");
            return;
        }
    }
    let mut auth: Option<(Vec<u8>, Vec<u8>)> = None;
    let mut setname: Option<Vec<u8>> = None;
    while i < argv.len() {
        let opt = argv[i].to_ascii_lowercase();
        let more = argv.len() - i - 1;
        if opt == b"auth" && more >= 2 {
            auth = Some((argv[i + 1].clone(), argv[i + 2].clone()));
            i += 3;
        } else if opt == b"setname" && more >= 1 {
            setname = Some(argv[i + 1].clone());
            i += 2;
        } else {
            c.reply.error(&format!(
                "ERR Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(&argv[i])
            ));
            return;
        }
    }
    if let Some((u, p)) = &auth {
        if !authenticate(srv, c, &argv[0], u, p) {
            c.reply
                .error("WRONGPASS invalid username-password pair or user is disabled.");
            return;
        }
    }
    if !c.authenticated {
        c.reply.error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
        return;
    }
    if let Some(n) = &setname {
        if !valid_client_name(n) {
            c.reply.error(errors::BAD_CLIENT_NAME);
            return;
        }
        c.name = if n.is_empty() { None } else { Some(n.clone()) };
    }
    if let Some(v) = ver {
        c.reply.resp3 = v == 3;
    }
    c.reply.map(7);
    c.reply.bulk(b"server");
    c.reply.bulk(b"redis");
    c.reply.bulk(b"version");
    c.reply.bulk(crate::server::REDIS_VERSION.as_bytes());
    c.reply.bulk(b"proto");
    c.reply.int(if c.reply.resp3 { 3 } else { 2 });
    c.reply.bulk(b"id");
    c.reply.int(c.id as i64);
    c.reply.bulk(b"mode");
    c.reply.bulk(b"standalone");
    c.reply.bulk(b"role");
    c.reply.bulk(if srv.is_replica() {
        b"replica"
    } else {
        b"master"
    });
    c.reply.bulk(b"modules");
    c.reply.array(0);
}

/// SELECT index: switches the connection to logical database `index`. Replies OK, or an
/// error if the index is not an integer or is out of range.
fn select(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let Some(idx) = parse_i64(&argv[1]) else {
        c.reply.error(errors::NOT_INTEGER);
        return;
    };
    if idx < 0 || idx as usize >= srv.dbs.len() {
        c.reply.error(errors::DB_INDEX_OUT_OF_RANGE);
        return;
    }
    c.db = idx as usize;
    c.reply.ok();
}

/// A client name may only contain printable ASCII without spaces ('!'..='~'), as in Redis.
fn valid_client_name(n: &[u8]) -> bool {
    n.iter().all(|&b| (b'!'..=b'~').contains(&b))
}

/// CLIENT ID: replies with this connection's unique integer id.
fn client_id(_: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    c.reply.int(c.id as i64);
}

/// CLIENT SETNAME connection-name: sets (or, with an empty name, clears) the connection
/// name. Replies OK, or an error for names with spaces or non-printable characters.
fn client_setname(_: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    if !valid_client_name(&argv[2]) {
        c.reply.error(errors::BAD_CLIENT_NAME);
        return;
    }
    c.name = if argv[2].is_empty() {
        None
    } else {
        Some(argv[2].clone())
    };
    c.reply.ok();
}

/// CLIENT GETNAME: replies with the connection name, or nil if none is set.
fn client_getname(_: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    match &c.name {
        Some(n) => {
            let n = n.clone();
            c.reply.bulk(&n)
        }
        None => c.reply.null(),
    }
}

/// Whether `c` belongs to the CLIENT LIST / CLIENT KILL `TYPE` class `ty` (lowercase).
/// "normal" excludes clients with pub/sub subscriptions, which count as "pubsub".
fn client_type_matches(c: &Client, ty: &[u8]) -> bool {
    match ty {
        b"normal" => c.kind == ClientKind::Normal && c.total_subscriptions() == 0,
        b"master" => c.kind == ClientKind::Master,
        b"replica" | b"slave" => c.kind == ClientKind::Replica,
        b"pubsub" => c.total_subscriptions() > 0,
        _ => false,
    }
}

/// CLIENT LIST [TYPE normal|master|replica|pubsub] [ID client-id ...]: replies with a
/// verbatim string holding one `Client::info_line` per matching connection (this one included),
/// ordered by id.
fn client_list(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let mut ty: Option<Vec<u8>> = None;
    let mut ids: Option<Vec<u64>> = None;
    if argv.len() == 4 && argv[2].eq_ignore_ascii_case(b"type") {
        let t = argv[3].to_ascii_lowercase();
        if !matches!(
            &t[..],
            b"normal" | b"master" | b"replica" | b"slave" | b"pubsub"
        ) {
            c.reply.error(&format!(
                "ERR Unknown client type '{}'",
                String::from_utf8_lossy(&argv[3])
            ));
            return;
        }
        ty = Some(t);
    } else if argv.len() >= 4 && argv[2].eq_ignore_ascii_case(b"id") {
        let mut v = Vec::new();
        for a in &argv[3..] {
            match parse_i64(a) {
                Some(n) if n > 0 => v.push(n as u64),
                _ => {
                    c.reply.error("ERR Invalid client ID");
                    return;
                }
            }
        }
        ids = Some(v);
    } else if argv.len() != 2 {
        c.reply.error(errors::SYNTAX);
        return;
    }
    let now = now_ms();
    let mut out = String::new();
    let mut all: Vec<&Client> = srv.clients.values().collect();
    all.push(c);
    all.sort_by_key(|x| x.id);
    for x in all {
        if let Some(t) = &ty {
            if !client_type_matches(x, t) {
                continue;
            }
        }
        if let Some(ids) = &ids {
            if !ids.contains(&x.id) {
                continue;
            }
        }
        out.push_str(&x.info_line(now, srv.tracking.clients.get(&x.id)));
    }
    c.reply.verbatim(out.as_bytes());
}

/// CLIENT INFO: replies with the `Client::info_line` of the calling connection as a verbatim string.
fn client_info(srv: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    let line = c.info_line(now_ms(), srv.tracking.clients.get(&c.id));
    c.reply.verbatim(line.as_bytes());
}

/// CLIENT KILL ip:port | CLIENT KILL [ID id] [TYPE type] [USER username] [ADDR ip:port]
/// [LADDR ip:port] [SKIPME yes|no] [MAXAGE seconds]: closes matching connections. The old
/// one-filter form replies OK or "No such client"; the filter form replies with the number
/// of clients killed and skips the caller unless SKIPME no. Only the `default` user exists,
/// so any other USER is an error. Victims are flagged and woken so they close asynchronously.
fn client_kill(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    // Old form: CLIENT KILL addr:port.
    if argv.len() == 3 {
        let addr = String::from_utf8_lossy(&argv[2]).into_owned();
        if c.addr == addr {
            c.reply.ok();
            c.close_after_reply = true;
            return;
        }
        if let Some(t) = srv.clients.values_mut().find(|x| x.addr == addr) {
            t.close_asap = true;
            t.wake();
            c.reply.ok();
        } else {
            c.reply.error("ERR No such client");
        }
        return;
    }
    let mut filt_id: Option<u64> = None;
    let mut filt_type: Option<Vec<u8>> = None;
    let mut filt_addr: Option<String> = None;
    let mut filt_laddr: Option<String> = None;
    let mut filt_user: Option<Vec<u8>> = None;
    let mut maxage: Option<i64> = None;
    let mut skipme = true;
    let mut i = 2;
    while i < argv.len() {
        if i + 1 >= argv.len() {
            c.reply.error(errors::SYNTAX);
            return;
        }
        let opt = argv[i].to_ascii_lowercase();
        let val = &argv[i + 1];
        match &opt[..] {
            b"id" => match parse_i64(val) {
                Some(n) if n > 0 => filt_id = Some(n as u64),
                _ => {
                    c.reply.error("ERR client-id should be greater than 0");
                    return;
                }
            },
            b"type" => {
                let t = val.to_ascii_lowercase();
                if !matches!(
                    &t[..],
                    b"normal" | b"master" | b"replica" | b"slave" | b"pubsub"
                ) {
                    c.reply.error(&format!(
                        "ERR Unknown client type '{}'",
                        String::from_utf8_lossy(val)
                    ));
                    return;
                }
                filt_type = Some(t);
            }
            b"addr" => filt_addr = Some(String::from_utf8_lossy(val).into_owned()),
            b"laddr" => filt_laddr = Some(String::from_utf8_lossy(val).into_owned()),
            b"user" => filt_user = Some(val.clone()),
            b"skipme" => match &val.to_ascii_lowercase()[..] {
                b"yes" => skipme = true,
                b"no" => skipme = false,
                _ => {
                    c.reply.error(errors::SYNTAX);
                    return;
                }
            },
            b"maxage" => match parse_i64(val) {
                Some(n) if n >= 0 => maxage = Some(n),
                _ => {
                    c.reply.error(errors::SYNTAX);
                    return;
                }
            },
            _ => {
                c.reply.error(errors::SYNTAX);
                return;
            }
        }
        i += 2;
    }
    if let Some(u) = &filt_user {
        if !srv.acl.users.contains_key(u) {
            c.reply.error(&format!(
                "ERR No such user '{}'",
                String::from_utf8_lossy(u)
            ));
            return;
        }
    }
    let now = now_ms();
    let matches = |x: &Client| {
        filt_id.is_none_or(|id| x.id == id)
            && filt_type.as_ref().is_none_or(|t| client_type_matches(x, t))
            && filt_addr.as_ref().is_none_or(|a| &x.addr == a)
            && filt_laddr.as_ref().is_none_or(|a| &x.laddr == a)
            && filt_user.as_ref().is_none_or(|u| &x.user == u)
            && maxage.is_none_or(|m| (now - x.created_ms) / 1000 >= m)
    };
    let mut killed = 0;
    for x in srv.clients.values_mut() {
        if matches(x) {
            x.close_asap = true;
            x.wake();
            killed += 1;
        }
    }
    if !skipme && matches(c) {
        c.close_after_reply = true;
        killed += 1;
    }
    c.reply.int(killed);
}

/// CLIENT PAUSE timeout [WRITE|ALL]: suspends all (or only write) commands from normal
/// clients for `timeout` milliseconds. Replies OK. Like Redis, an existing pause is never
/// weakened: ALL is not downgraded to WRITE and the end time only moves later.
fn client_pause(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let Some(ms) = parse_i64(&argv[2]).filter(|v| *v >= 0) else {
        c.reply.error(errors::TIMEOUT_NOT_INTEGER);
        return;
    };
    let kind = match argv.get(3).map(|v| v.to_ascii_lowercase()) {
        None => PauseKind::All,
        Some(v) if v == b"all" => PauseKind::All,
        Some(v) if v == b"write" => PauseKind::Write,
        _ => {
            c.reply.error("ERR CLIENT PAUSE mode must be WRITE or ALL");
            return;
        }
    };
    if argv.len() > 4 {
        c.reply.error(errors::SYNTAX);
        return;
    }
    let until = now_ms().saturating_add(ms);
    // A stronger or longer pause wins, like Redis.
    if srv.pause == PauseKind::None || kind == PauseKind::All || until > srv.pause_until_ms {
        if !(srv.pause == PauseKind::All && kind == PauseKind::Write) {
            srv.pause = kind;
        }
        srv.pause_until_ms = srv.pause_until_ms.max(until);
    }
    c.reply.ok();
}

/// CLIENT UNPAUSE: ends any client pause at once and wakes the clients blocked by it.
/// Replies OK.
fn client_unpause(srv: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    srv.pause = PauseKind::None;
    srv.pause_until_ms = 0;
    srv.unpause.notify_waiters();
    for x in srv.clients.values() {
        if matches!(x.blocked, Some(Blocked::Paused { .. })) {
            x.wake();
        }
    }
    c.reply.ok();
}

/// CLIENT NO-EVICT ON|OFF: sets the connection's no-evict flag. Replies OK.
fn client_no_evict(_: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    match &argv[2].to_ascii_lowercase()[..] {
        b"on" => c.no_evict = true,
        b"off" => c.no_evict = false,
        _ => {
            c.reply.error(errors::SYNTAX);
            return;
        }
    }
    c.reply.ok();
}

/// CLIENT REPLY ON|OFF|SKIP: controls replies to this connection. Only ON replies (OK);
/// OFF silences all replies and SKIP silences just the next command's reply.
fn client_reply(_: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    match &argv[2].to_ascii_lowercase()[..] {
        b"on" => {
            c.reply_mode = ReplyMode::On;
            c.reply.ok();
        }
        b"off" => c.reply_mode = ReplyMode::Off,
        b"skip" => {
            if c.reply_mode == ReplyMode::On {
                c.reply_mode = ReplyMode::Skip;
            }
        }
        _ => c.reply.error(errors::SYNTAX),
    }
}

/// CLIENT GETREDIR: the id invalidations are redirected to while tracking is
/// on (0 when they go to this connection), -1 when tracking is off.
fn client_getredir(srv: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    let r = srv
        .tracking
        .clients
        .get(&c.id)
        .map_or(-1, |t| t.redirect as i64);
    c.reply.int(r);
}

/// CLIENT TRACKING ON|OFF [REDIRECT id] [BCAST] [PREFIX p ...] [OPTIN] [OPTOUT]
/// [NOLOOP]: turns client-side caching on or off for this connection, with
/// Redis 7.0's option checks and error texts (the redirect client must exist,
/// PREFIX needs BCAST, BCAST/OPTIN/OPTOUT cannot change while on, prefixes may
/// not overlap). Replies OK.
fn client_tracking(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    use crate::server::tracking;
    let mut mode = tracking::ClientTracking::default();
    let mut prefixes: Vec<Vec<u8>> = Vec::new();
    let mut j = 3;
    while j < argv.len() {
        let more = j + 1 < argv.len();
        let opt = argv[j].to_ascii_lowercase();
        if opt == b"redirect" && more {
            j += 1;
            if mode.redirect != 0 {
                c.reply
                    .error("ERR A client can only redirect to a single other client");
                return;
            }
            let Some(id) = parse_i64(&argv[j]) else {
                c.reply.error(errors::NOT_INTEGER);
                return;
            };
            if id <= 0 || !(srv.clients.contains(id as u64)) {
                c.reply
                    .error("ERR The client ID you want redirect to does not exist");
                return;
            }
            mode.redirect = id as u64;
        } else if opt == b"bcast" {
            mode.bcast = true;
        } else if opt == b"optin" {
            mode.optin = true;
        } else if opt == b"optout" {
            mode.optout = true;
        } else if opt == b"noloop" {
            mode.noloop = true;
        } else if opt == b"prefix" && more {
            j += 1;
            prefixes.push(argv[j].clone());
        } else {
            c.reply.error(errors::SYNTAX);
            return;
        }
        j += 1;
    }
    match &argv[2].to_ascii_lowercase()[..] {
        b"on" => {
            if !mode.bcast && !prefixes.is_empty() {
                c.reply
                    .error("ERR PREFIX option requires BCAST mode to be enabled");
                return;
            }
            let current = srv.tracking.clients.get(&c.id);
            if current.is_some_and(|t| t.bcast != mode.bcast) {
                c.reply.error("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.");
                return;
            }
            if mode.bcast && (mode.optin || mode.optout) {
                c.reply
                    .error("ERR OPTIN and OPTOUT are not compatible with BCAST");
                return;
            }
            if mode.optin && mode.optout {
                c.reply
                    .error("ERR You can't specify both OPTIN mode and OPTOUT mode");
                return;
            }
            if current.is_some_and(|t| (mode.optin && t.optout) || (mode.optout && t.optin)) {
                c.reply.error("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.");
                return;
            }
            if mode.bcast {
                if let Some((err, goes_on)) = tracking::prefix_collision(srv, c.id, &prefixes) {
                    c.reply.error(&err);
                    if !goes_on {
                        return;
                    }
                }
            }
            tracking::enable(srv, c, mode, &prefixes);
        }
        b"off" => tracking::disable(srv, c.id),
        _ => {
            c.reply.error(errors::SYNTAX);
            return;
        }
    }
    c.reply.ok();
}

/// CLIENT CACHING YES|NO: in OPTIN mode (YES) or OPTOUT mode (NO), makes the
/// next command (or transaction) cached, or not cached. Replies OK, or
/// Redis's errors when tracking is off or in the other mode.
fn client_caching(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let Some(t) = srv.tracking.clients.get_mut(&c.id) else {
        c.reply.error("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled");
        return;
    };
    match &argv[2].to_ascii_lowercase()[..] {
        b"yes" if t.optin => t.caching = true,
        b"yes" => {
            c.reply.error(
                "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.",
            );
            return;
        }
        b"no" if t.optout => t.caching = true,
        b"no" => {
            c.reply.error(
                "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.",
            );
            return;
        }
        _ => {
            c.reply.error(errors::SYNTAX);
            return;
        }
    }
    c.reply.ok();
}

/// CLIENT TRACKINGINFO: a map of `flags` (a set: on/off, bcast, optin and
/// caching-yes, optout and caching-no, noloop, broken_redirect), `redirect`
/// (as CLIENT GETREDIR) and `prefixes` (the BCAST prefixes, sorted).
fn client_trackinginfo(srv: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    let t = srv.tracking.clients.get(&c.id);
    let mut flags: Vec<&[u8]> = vec![if t.is_some() { b"on" } else { b"off" }];
    if let Some(t) = t {
        if t.bcast {
            flags.push(b"bcast");
        }
        if t.optin {
            flags.push(b"optin");
            if t.caching {
                flags.push(b"caching-yes");
            }
        }
        if t.optout {
            flags.push(b"optout");
            if t.caching {
                flags.push(b"caching-no");
            }
        }
        if t.noloop {
            flags.push(b"noloop");
        }
        if t.broken_redir {
            flags.push(b"broken_redirect");
        }
    }
    c.reply.map(3);
    c.reply.bulk(b"flags");
    c.reply.set(flags.len());
    for f in flags {
        c.reply.bulk(f);
    }
    c.reply.bulk(b"redirect");
    c.reply.int(t.map_or(-1, |t| t.redirect as i64));
    c.reply.bulk(b"prefixes");
    let prefixes: Vec<&Vec<u8>> = t.map(|t| t.prefixes.iter().collect()).unwrap_or_default();
    c.reply.array(prefixes.len());
    for p in prefixes {
        c.reply.bulk(p);
    }
}

/// CLIENT UNBLOCK id [TIMEOUT|ERROR]: ends the block of a client waiting in a blocking
/// command (BLPOP and friends, XREAD/XREADGROUP BLOCK, WAIT) as Redis 7.0 does: with
/// TIMEOUT (the default) it gets the reply its timeout would have given, with ERROR the
/// error `UNBLOCKED client unblocked via CLIENT UNBLOCK`. Replies 1 when the client was
/// unblocked, 0 when no client with that id is blocked (clients held by CLIENT PAUSE or
/// a SHUTDOWN waiting for replicas are not in a blocking command, so they stay).
fn client_unblock(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    if argv.len() > 4 {
        c.reply.error(&format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try CLIENT HELP.",
            String::from_utf8_lossy(&argv[1])
        ));
        return;
    }
    let as_error = match argv.get(3) {
        None => false,
        Some(r) if r.eq_ignore_ascii_case(b"timeout") => false,
        Some(r) if r.eq_ignore_ascii_case(b"error") => true,
        Some(_) => {
            c.reply
                .error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
            return;
        }
    };
    let Some(id) = crate::server::util::parse_i64(&argv[2]) else {
        c.reply.error("ERR value is not an integer or out of range");
        return;
    };
    let id = id as u64;
    // The caller itself is running a command, so it is not blocked.
    if id == c.id || srv.clients.is_lent(id) {
        c.reply.int(0);
        return;
    }
    let Some(mut t) = srv.clients.lend(id) else {
        c.reply.int(0);
        return;
    };
    let blocked_cmd = match &t.blocked {
        Some(crate::server::client::Blocked::Keys { argv, .. }) => Some(argv[0].clone()),
        Some(crate::server::client::Blocked::Wait { .. }) => Some(b"wait".to_vec()),
        _ => None,
    };
    let Some(name) = blocked_cmd else {
        srv.clients.give_back(t);
        c.reply.int(0);
        return;
    };
    if as_error {
        super::blocking::unblock(srv, &mut t);
        super::call::error_reply(srv, &mut t, "UNBLOCKED client unblocked via CLIENT UNBLOCK");
    } else {
        // Counts the call as a timeout does.
        super::blocking::block_timed_out(srv, &mut t);
    }
    // Redis 7.0 counts the blocked command as failed either way (updateStatsOnUnblock
    // with had_errors set), and as a call when the timeout path did not.
    if let Some(cmd) = super::table::lookup(&name) {
        let st = srv.cmd_stats.entry(cmd.name).or_default();
        if as_error {
            st.calls += 1;
        }
        st.failed_calls += 1;
    }
    t.wake();
    srv.clients.give_back(t);
    c.reply.int(1);
}

/// CLIENT HELP: replies with the list of CLIENT subcommands as simple strings.
fn client_help(_: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    let lines = [
        "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CACHING (YES|NO)",
        "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
        "GETREDIR",
        "    Return the client ID we are redirecting to when tracking is enabled.",
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are:",
        "    * ADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made from the specified address",
        "    * LADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made to specified local address",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Kill connections by type.",
        "    * USER <username>",
        "      Kill connections authenticated by <username>.",
        "    * SKIPME (YES|NO)",
        "      Skip killing current connection (default: yes).",
        "LIST [options ...]",
        "    Return information about client connections. Options:",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Return clients of specified type.",
        "UNPAUSE",
        "    Stop the current client pause, resuming traffic.",
        "PAUSE <timeout> [WRITE|ALL]",
        "    Suspend all, or just write, clients for <timeout> milliseconds.",
        "REPLY (ON|OFF|SKIP)",
        "    Control the replies sent to the current connection.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "UNBLOCK <clientid> [TIMEOUT|ERROR]",
        "    Unblock the specified blocked client.",
        "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
        "         [OPTIN] [OPTOUT] [NOLOOP]",
        "    Control server assisted client side caching.",
        "TRACKINGINFO",
        "    Report tracking status for the current connection.",
        "NO-EVICT (ON|OFF)",
        "    Protect current client connection from eviction.",
        "HELP",
        "    Prints this help.",
    ];
    c.reply.array(lines.len());
    for l in lines {
        c.reply.simple(l);
    }
}
