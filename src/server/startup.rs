//! Process start and stop: the command line, daemonizing, the pid file, the
//! listening sockets, signals, and the main loop that runs until SHUTDOWN.

use crate::server::config::{Config, StartupAction};
use crate::server::connection::{accept_loop, ListenerSlot, Shared};
use crate::server::log;
use crate::server::resp::errors;
use crate::server::state::{Server, ShutdownMode};
use std::cell::RefCell;
use std::io::{Read, Write};
use std::rc::Rc;

use crate::server::{REDIS_VERSION, TRIPOD_VERSION};

const HELP: &str = "Usage: ./tripod-server [/path/to/redis.conf] [options] [-]
       ./tripod-server - (read config from stdin)
       ./tripod-server -v or --version
       ./tripod-server -h or --help

tripod-server is tripod's bundled Redis-compatible server (behaves as Redis 7.0).

Examples:
       ./tripod-server (run the server with default config)
       ./tripod-server /etc/redis/6379.conf
       ./tripod-server --port 7777
       ./tripod-server --port 7777 --replicaof 127.0.0.1 8888
       ./tripod-server /etc/myredis.conf --loglevel verbose -
       ./tripod-server /etc/myredis.conf --loglevel verbose

Differences from redis-server are on purpose: a trailing `# comment` after a
directive's value is accepted; directives whose meaning is not implemented
(appendonly yes, cluster-enabled yes, ...) are refused at start.
";

/// Entry point of the `tripod-server` binary; returns the exit status.
pub fn main() -> i32 {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match Config::from_args(&args) {
        Ok(StartupAction::Version) => {
            println!(
                "tripod-server v={} redis_version={} sha=00000000:0 malloc=mimalloc bits=64 build=tripod",
                TRIPOD_VERSION, REDIS_VERSION
            );
            return 0;
        }
        Ok(StartupAction::Help) => {
            print!("{}", HELP);
            return 0;
        }
        Ok(StartupAction::Run(c)) => *c,
        Err(msg) => {
            eprintln!("{}", msg);
            return 1;
        }
    };

    // Like Redis, `dir` becomes the working directory: relative paths in the
    // configuration (dbfilename, logfile given after dir) are relative to it.
    if let Err(e) = std::env::set_current_dir(&config.dir) {
        eprintln!("Can't chdir to '{}': {}", config.dir.display(), e);
        return 1;
    }

    // `disable-thp yes` (the default), as Redis: no transparent huge pages for
    // this process. With them, a fork for BGSAVE or a rewrite copies 2 MB per
    // touched page instead of 4 KB, and the first touches of a large dataset
    // wait for the kernel to assemble huge pages (measured: 0.25 s of a 0.8 s
    // load of one million keys).
    if config.get("disable-thp").as_deref() == Some("yes") {
        // SAFETY: prctl with PR_SET_THP_DISABLE takes plain integer arguments.
        unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
    }

    // Daemonize before any thread or runtime exists. The parent waits until the
    // child reports that it listens (or why it could not), so `daemonize yes`
    // start-up errors such as a port in use still reach the operator.
    let ready_fd = if config.daemonize {
        match daemonize() {
            Daemon::Parent(code) => return code,
            Daemon::Child(fd) => Some(fd),
        }
    } else {
        None
    };

    log::init(&config.logfile, &config.loglevel);
    if config.replicaof.is_some() {
        log::set_role('S');
    }
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            report_ready(
                ready_fd,
                Err(format!("Failed creating the event loop: {}", e)),
            );
            return 1;
        }
    };
    let local = tokio::task::LocalSet::new();
    let code = local.block_on(&rt, run(config, ready_fd));
    // Like Redis, exit without freeing the dataset: dropping millions of keys
    // would hold the port (and the operator's restart) for seconds after
    // "ready to exit". Everything that must reach disk was flushed by
    // `finish_shutdown`; the kernel closes the sockets and files.
    std::process::exit(code)
}

enum Daemon {
    Parent(i32),
    Child(i32),
}

fn daemonize() -> Daemon {
    let mut fds = [0i32; 2];
    // SAFETY: plain POSIX calls before any other thread exists.
    unsafe {
        if libc::pipe(fds.as_mut_ptr()) != 0 {
            eprintln!("Can't daemonize: pipe failed");
            return Daemon::Parent(1);
        }
        match libc::fork() {
            -1 => {
                eprintln!("Can't daemonize: fork failed");
                Daemon::Parent(1)
            }
            0 => {
                libc::close(fds[0]);
                libc::setsid();
                let devnull = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
                if devnull >= 0 {
                    libc::dup2(devnull, 0);
                    libc::dup2(devnull, 1);
                    libc::dup2(devnull, 2);
                    if devnull > 2 {
                        libc::close(devnull);
                    }
                }
                Daemon::Child(fds[1])
            }
            _ => {
                libc::close(fds[1]);
                let mut f = std::fs::File::from_raw_fd_checked(fds[0]);
                let mut msg = String::new();
                let _ = f.read_to_string(&mut msg);
                if msg == "OK" {
                    Daemon::Parent(0)
                } else {
                    if msg.is_empty() {
                        msg = "tripod-server exited during start-up (see its log file)".into();
                    }
                    eprintln!("{}", msg);
                    Daemon::Parent(1)
                }
            }
        }
    }
}

trait FromRawFdChecked {
    fn from_raw_fd_checked(fd: i32) -> std::fs::File;
}
impl FromRawFdChecked for std::fs::File {
    fn from_raw_fd_checked(fd: i32) -> std::fs::File {
        use std::os::fd::FromRawFd;
        // SAFETY: fd is a pipe end we own exclusively.
        unsafe { std::fs::File::from_raw_fd(fd) }
    }
}

/// Tells a waiting daemonizing parent how start-up went (no-op in the foreground).
fn report_ready(fd: Option<i32>, result: Result<(), String>) {
    if let Some(fd) = fd {
        let mut f = std::fs::File::from_raw_fd_checked(fd);
        let _ = match result {
            Ok(()) => f.write_all(b"OK"),
            Err(e) => f.write_all(e.as_bytes()),
        };
    }
}

/// Resolves the configured bind addresses to socket addresses. A leading `-`
/// marks an address that may be unavailable (Redis's `-::*`).
fn bind_addrs(config: &Config) -> Vec<(String, bool)> {
    let mut v = Vec::new();
    for b in &config.bind {
        let (optional, addr) = match b.strip_prefix('-') {
            Some(a) => (true, a),
            None => (false, b.as_str()),
        };
        let host = match addr {
            "*" => "0.0.0.0".to_string(),
            "::*" => "::".to_string(),
            a => a.to_string(),
        };
        let sock = if host.contains(':') {
            format!("[{}]:{}", host, config.port)
        } else {
            format!("{}:{}", host, config.port)
        };
        v.push((sock, optional));
    }
    v
}

fn bind_listener(addr: &str, backlog: u32) -> std::io::Result<tokio::net::TcpListener> {
    let sa: std::net::SocketAddr = addr
        .parse()
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "invalid address"))?;
    let sock = if sa.is_ipv6() {
        tokio::net::TcpSocket::new_v6()?
    } else {
        tokio::net::TcpSocket::new_v4()?
    };
    sock.set_reuseaddr(true)?;
    if sa.is_ipv6() {
        // Like Redis: the IPv6 socket does not also take IPv4 (the `*` listener does).
        use std::os::fd::AsRawFd;
        let on: libc::c_int = 1;
        // SAFETY: setsockopt on a valid socket with an int argument.
        unsafe {
            libc::setsockopt(
                sock.as_raw_fd(),
                libc::IPPROTO_IPV6,
                libc::IPV6_V6ONLY,
                &on as *const _ as *const libc::c_void,
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
    }
    sock.bind(sa)?;
    sock.listen(backlog)
}

/// Binds every `bind` address on the configured port (none when the port is 0).
/// The error is Redis's message for the address that failed.
fn bind_tcp(config: &Config) -> Result<Vec<tokio::net::TcpListener>, String> {
    let port = config.port;
    let mut listeners = Vec::new();
    if port == 0 || config.bind.is_empty() {
        return Ok(listeners);
    }
    for (addr, optional) in bind_addrs(config) {
        match bind_listener(&addr, config.tcp_backlog) {
            Ok(l) => listeners.push(l),
            // `-addr`: an address this host does not have (say, no IPv6) is skipped.
            Err(e) if optional && is_unavailable_address(&e) => {}
            Err(e) => {
                return Err(format!(
                    "Could not create server TCP listening socket {}: bind: {}\nFailed listening on port {} (TCP), aborting.",
                    addr,
                    describe_io(&e),
                    port
                ))
            }
        }
    }
    if listeners.is_empty() {
        return Err(format!(
            "Failed listening on port {} (TCP), aborting: no bind address could be used.",
            port
        ));
    }
    Ok(listeners)
}

/// Binds the TCP listeners at start-up. On failure the error is logged and
/// reported to a waiting parent.
fn listen(srv: &Server, ready_fd: Option<i32>) -> Result<Vec<tokio::net::TcpListener>, ()> {
    bind_tcp(&srv.config).map_err(|msg| {
        log::warning(&msg);
        if ready_fd.is_none() {
            eprintln!("{}", msg);
        }
        report_ready(ready_fd, Err(msg));
    })
}

/// Serves `listeners`: each goes into a slot the server keeps (to close it) and
/// gets an accept task.
fn start_accepting(srv: &mut Server, shared: &Shared, listeners: Vec<tokio::net::TcpListener>) {
    for l in listeners {
        {
            use std::os::fd::AsRawFd;
            srv.listen_fds.push(l.as_raw_fd());
        }
        let slot: ListenerSlot = Rc::new(RefCell::new(Some(l)));
        srv.listeners.push(slot.clone());
        tokio::task::spawn_local(accept_loop(shared.clone(), slot));
    }
}

/// CONFIG SET port / bind: closes the TCP listeners and binds the new
/// configuration's; when that fails, `before`'s listeners are bound again and the
/// error (Redis's reply text) is returned.
fn rebind(srv: &mut Server, before: &Config) -> Result<(), String> {
    let Some(shared) = srv.handle.as_ref().and_then(|w| w.upgrade()) else {
        return Err("ERR the server is shutting down".into());
    };
    for slot in srv.listeners.drain(..) {
        slot.borrow_mut().take();
    }
    srv.listen_fds.clear();
    match bind_tcp(&srv.config) {
        Ok(l) => {
            start_accepting(srv, &shared, l);
            srv.tcp_port = srv.config.port;
            Ok(())
        }
        Err(e) => {
            log::warning(&e.replace(", aborting.", "."));
            match bind_tcp(before) {
                Ok(l) => start_accepting(srv, &shared, l),
                Err(e) => log::warning(&format!(
                    "Failed to restore the previous listening sockets: {}",
                    e.replace(", aborting.", ".")
                )),
            }
            Err(if srv.config.port != before.port {
                "Unable to listen on this port. Check server logs.".into()
            } else {
                "Failed to bind to specified addresses.".into()
            })
        }
    }
}

/// Binds the `unixsocket` listener, if configured: a stale socket file left by
/// an earlier run is removed first and the file gets `unixsocketperm`, as Redis
/// does. On failure the error is logged and reported to a waiting parent.
fn listen_unix(
    config: &Config,
    ready_fd: Option<i32>,
) -> Result<Option<(tokio::net::UnixListener, String)>, ()> {
    let Some(path) = config.unixsocket.clone() else {
        return Ok(None);
    };
    let _ = std::fs::remove_file(&path);
    let bound = tokio::net::UnixListener::bind(&path).and_then(|l| {
        if config.unixsocketperm != 0 {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(
                &path,
                std::fs::Permissions::from_mode(config.unixsocketperm),
            )?;
        }
        Ok(l)
    });
    match bound {
        Ok(l) => Ok(Some((l, path.display().to_string()))),
        Err(e) => {
            let msg = format!(
                "Failed opening Unix socket: {} ({}), aborting.",
                describe_io(&e),
                path.display()
            );
            log::warning(&msg);
            if ready_fd.is_none() {
                eprintln!("{}", msg);
            }
            report_ready(ready_fd, Err(msg));
            Err(())
        }
    }
}

/// The startup banner. Like Redis, the logo (whose `Port:` and `PID:` lines
/// tools and Redis's own test suite read) is shown with `always-show-logo yes` or
/// when logging to a terminal; otherwise one line says the mode and port.
fn show_logo(config: &Config, port: u16) {
    use std::io::IsTerminal;
    let pid = std::process::id();
    let to_tty = config.logfile.is_empty() && std::io::stdout().is_terminal();
    if !(config.always_show_logo || to_tty) {
        log::notice(&format!("Running mode=standalone, port={}.", port));
        return;
    }
    let logo = format!(
        r"
                 ___
                /   \        tripod-server {tripod} (Redis {redis} compatible) 64 bit
               | (O) |
                \___/        Running in standalone mode
                /|||\        Port: {port}
               / ||| \       PID: {pid}
              /  |||  \
             /   |||   \
",
        tripod = TRIPOD_VERSION,
        redis = REDIS_VERSION,
        port = port,
        pid = pid
    );
    log::raw(&logo);
}

/// SIGTERM and SIGINT ask for a shutdown like SHUTDOWN (with the default save
/// behaviour); SIGCHLD reaps a finished background save at once (replicas
/// waiting for the snapshot should not wait for the next cron tick).
fn spawn_signal_watchers(shared: &Shared) {
    // Signals ask for a shutdown like SHUTDOWN (with the default save behaviour).
    {
        let s = shared.clone();
        tokio::task::spawn_local(async move {
            use tokio::signal::unix::{signal, SignalKind};
            let (Ok(mut term), Ok(mut int)) = (
                signal(SignalKind::terminate()),
                signal(SignalKind::interrupt()),
            ) else {
                return;
            };
            loop {
                let which = tokio::select! {
                    _ = term.recv() => "SIGTERM",
                    _ = int.recv() => "SIGINT",
                };
                log::warning(&format!("Received {} scheduling shutdown...", which));
                let mut srv = s.borrow_mut();
                srv.shutdown = Some(ShutdownMode::Default);
                srv.wake_all.notify_one();
            }
        });
    }

    // A finished background save is reaped as soon as it exits (replicas waiting
    // for the snapshot should not wait for the next cron tick).
    {
        let s = shared.clone();
        tokio::task::spawn_local(async move {
            use tokio::signal::unix::{signal, SignalKind};
            let Ok(mut chld) = signal(SignalKind::child()) else {
                return;
            };
            while chld.recv().await.is_some() {
                let mut srv = s.borrow_mut();
                crate::server::rdb::reap_child(&mut srv);
                crate::server::aof::rewrite::reap_child(&mut srv);
                crate::server::replication::take_snapshot_event(&mut srv);
            }
        });
    }
}

/// The shutdown's progress, once per cron tick: a signal's shutdown first waits
/// for lagging replicas (like SHUTDOWN), then the final save. Returns true when
/// the process must exit; a failed final save leaves the server running.
fn shutdown_step(srv: &mut Server) -> bool {
    // A signal's shutdown first waits for lagging replicas, like SHUTDOWN.
    if let Some(mode) = srv.shutdown {
        if srv.shutdown_wait.is_none()
            && crate::server::replication::master::begin_shutdown_wait(srv, mode, None)
        {
            srv.shutdown = None;
        }
    }
    if let Some(w) = srv.shutdown_wait.clone() {
        let done = !crate::server::replication::master::replicas_lagging(srv);
        if done || crate::server::util::now_ms() >= w.deadline_ms {
            if done {
                log::notice("All replicas are in sync, shutting down.");
            } else {
                log::warning(
                    "Lagging replica(s) did not catch up before shutdown-timeout; shutting down.",
                );
            }
            srv.shutdown_wait = None;
            srv.shutdown = Some(w.mode);
        }
    }
    if let Some(mode) = srv.shutdown {
        match crate::server::rdb::finish_shutdown(srv, mode) {
            Ok(()) => return true,
            Err(e) => {
                log::warning(&format!("{}; the server keeps running.", e));
                srv.shutdown = None;
                if srv.pause_until_ms > 0 {
                    srv.pause = crate::server::state::PauseKind::None;
                    srv.pause_until_ms = 0;
                    srv.unpause.notify_waiters();
                }
                // A SHUTDOWN that waited for replicas gets its error now.
                let waiting: Vec<u64> = srv
                    .clients
                    .iter()
                    .filter(|(_, c)| {
                        matches!(c.blocked, Some(crate::server::client::Blocked::Shutdown))
                    })
                    .map(|(id, _)| *id)
                    .collect();
                for id in waiting {
                    if let Some(c) = srv.clients.get_mut(&id) {
                        c.blocked = None;
                    }
                    srv.push_to(id, |r| r.error(errors::SHUTDOWN_FAILED));
                }
            }
        }
    }
    false
}

async fn run(config: Config, ready_fd: Option<i32>) -> i32 {
    let port = config.port;
    let mut srv = Server::new(config);
    if let Err(e) = crate::server::acl::load_at_startup(&mut srv) {
        log::warning(&e);
        eprintln!("{}", e);
        report_ready(ready_fd, Err(e));
        return 1;
    }
    log::notice("oO0OoO0OoO0Oo tripod-server is starting oO0OoO0OoO0Oo");
    log::notice(&format!(
        "tripod-server version={}, redis_version={}, bits=64, pid={}, just started",
        TRIPOD_VERSION,
        REDIS_VERSION,
        std::process::id()
    ));

    let class = crate::server::oom::current_class(&srv);
    let _ = crate::server::oom::apply(&mut srv, class);
    let granted = crate::server::fdlimit::adjust_at_startup(srv.config.maxclients);
    if granted < srv.config.maxclients {
        let _ = srv
            .config
            .set(&[(b"maxclients".to_vec(), granted.to_string().into_bytes())]);
    }

    // Listen first, so a port in use fails fast and cleanly.
    let listeners = match listen(&srv, ready_fd) {
        Ok(l) => l,
        Err(()) => return 1,
    };
    srv.tcp_port = port;
    let unix_listener = match listen_unix(&srv.config, ready_fd) {
        Ok(l) => l,
        Err(()) => return 1,
    };
    if listeners.is_empty() && unix_listener.is_none() {
        let msg = "Configured to not listen anywhere, exiting.".to_string();
        log::warning(&msg);
        report_ready(ready_fd, Err(msg));
        return 1;
    }
    show_logo(&srv.config, port);

    // Load the dataset before accepting clients.
    let loaded = match crate::server::aof::startup::load_and_open(&mut srv) {
        Ok(true) => Ok(()),
        Ok(false) => crate::server::rdb::load_on_startup(&mut srv),
        Err(e) => Err(e),
    };
    if let Err(e) = loaded {
        let msg = format!("Fatal error loading the DB: {}. Exiting.", e);
        log::warning(&msg);
        if ready_fd.is_none() {
            eprintln!("{}", msg);
        }
        report_ready(ready_fd, Err(msg));
        return 1;
    }

    if let Some(pidfile) = srv.config.pidfile.clone() {
        if let Err(e) = std::fs::write(&pidfile, format!("{}\n", std::process::id())) {
            log::warning(&format!(
                "Failed to write PID file {}: {}",
                pidfile.display(),
                e
            ));
        }
    }

    srv.repl.serve_link = Some(|srv, stream, id, initial| {
        Box::pin(crate::server::connection::serve_connection(
            srv, stream, id, initial,
        ))
    });
    srv.rebind = Some(rebind);
    let shared: Shared = Rc::new(RefCell::new(srv));
    shared.borrow_mut().handle = Some(Rc::downgrade(&shared));
    start_accepting(&mut shared.borrow_mut(), &shared, listeners);
    if let Some((l, path)) = unix_listener {
        tokio::task::spawn_local(crate::server::connection::accept_unix_loop(
            shared.clone(),
            l,
            path,
        ));
    }
    crate::server::replication::start(&shared);
    if port != 0 {
        log::notice("Ready to accept connections tcp");
    }
    if let Some(path) = &shared.borrow().config.unixsocket {
        log::notice(&format!(
            "The server is now ready to accept connections at {}",
            path.display()
        ));
    }
    report_ready(ready_fd, Ok(()));

    spawn_signal_watchers(&shared);

    // The cron: expiry, timeouts, background saves, replication, until shutdown.
    let wake = shared.borrow().wake_all.clone();
    loop {
        let hz = shared.borrow().config.hz.clamp(1, 500);
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_millis(1000 / hz)) => {}
            _ = wake.notified() => {}
        }
        let mut srv = shared.borrow_mut();
        if srv.exit_now || {
            crate::server::cron::run(&mut srv);
            shutdown_step(&mut srv)
        } {
            drop(srv);
            // Never freed: `main` exits the process right after (see there).
            std::mem::forget(shared);
            return 0;
        }
    }
}

fn is_unavailable_address(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::AddrNotAvailable | std::io::ErrorKind::Unsupported
    ) || e.raw_os_error() == Some(libc::EAFNOSUPPORT)
}

fn describe_io(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::AddrInUse => "Address already in use".into(),
        std::io::ErrorKind::AddrNotAvailable => "Cannot assign requested address".into(),
        std::io::ErrorKind::PermissionDenied => "Permission denied".into(),
        _ => e.to_string(),
    }
}
