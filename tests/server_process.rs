//! The process: command line, daemonizing, pid file, log file, signals, start-up
//! errors, and the binary's dependencies.
mod common;
use common::*;
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn version_and_help() {
    let out = Command::new(tripod_server_bin())
        .arg("--version")
        .output()
        .unwrap();
    assert!(out.status.success());
    let v = String::from_utf8_lossy(&out.stdout);
    assert!(
        v.contains("tripod-server v=") && v.contains("redis_version=7.0.15"),
        "{}",
        v
    );
    let out = Command::new(tripod_server_bin())
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout)
        .contains("Usage: ./tripod-server [/path/to/redis.conf]"));
}

#[test]
fn daemonize_writes_pidfile_and_log_and_sigterm_removes_pidfile() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let conf = dir.path().join("redis.conf");
    let pidfile = dir.path().join("redis.pid");
    let logfile = dir.path().join("redis.log");
    std::fs::write(
        &conf,
        format!(
            "bind 127.0.0.1\nport {}\ndaemonize yes\npidfile \"{}\"\nlogfile \"{}\"\ndir \"{}\"\nsave \"\"\n",
            port,
            pidfile.display(),
            logfile.display(),
            dir.path().display()
        ),
    )
    .unwrap();
    let st = Command::new(tripod_server_bin())
        .arg(&conf)
        .status()
        .unwrap();
    assert!(
        st.success(),
        "daemonizing parent exits 0 once the child listens"
    );
    // The parent exits only after the child listens: the port answers right away.
    let mut c = Conn::connect(port);
    assert_eq!(c.cmd(&[b"PING"]), b"+PONG\r\n");
    let pid: u32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    struct Kill(u32);
    impl Drop for Kill {
        fn drop(&mut self) {
            unsafe_kill(self.0, 9);
        }
    }
    let _guard = Kill(pid);
    assert!(std::fs::read_to_string(&logfile)
        .unwrap()
        .contains("Ready to accept connections"));
    unsafe_kill(pid, 15);
    wait_until("pid file removal", Duration::from_secs(10), || {
        !pidfile.exists()
    });
    wait_until("process exit", Duration::from_secs(10), || {
        !std::path::Path::new(&format!("/proc/{}", pid)).exists()
            || std::fs::read_to_string(format!("/proc/{}/stat", pid))
                .map(|s| s.contains(") Z"))
                .unwrap_or(true)
    });
    let log = std::fs::read_to_string(&logfile).unwrap();
    assert!(
        log.contains("Received SIGTERM scheduling shutdown"),
        "{}",
        log
    );
}

#[test]
fn foreground_sigint_and_shutdown_stop_cleanly() {
    let mut s = start_tripod(&["--pidfile", "p.pid"]);
    let pidfile = s.dir.path().join("p.pid");
    assert!(pidfile.exists());
    unsafe_kill(s.pid, 2);
    let st = s.terminate().unwrap();
    assert!(st.success(), "{:?}", st);
    assert!(!pidfile.exists());

    let mut s = start_tripod(&[]);
    let mut c = s.conn();
    c.send(&encode(&[b"SHUTDOWN", b"NOSAVE"]));
    assert!(
        c.read_to_close().is_empty(),
        "SHUTDOWN closes without a reply, like Redis"
    );
    let st = s.terminate().unwrap();
    assert!(st.success());
}

#[test]
fn port_in_use_is_a_clear_error() {
    let first = start_tripod(&[]);
    for daemonize in ["no", "yes"] {
        let out = Command::new(tripod_server_bin())
            .args([
                "--port",
                &first.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--daemonize",
                daemonize,
            ])
            .current_dir(first.dir.path())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "daemonize {}", daemonize);
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(
            text.contains("Address already in use") && text.contains(&first.port.to_string()),
            "{}",
            text
        );
    }
}

#[test]
fn bad_config_file_is_fatal_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("bad.conf");
    std::fs::write(&conf, "# comment\nport 6379\nport notanumber\n").unwrap();
    let out = Command::new(tripod_server_bin())
        .arg(&conf)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("FATAL CONFIG FILE ERROR"), "{}", err);
    assert!(err.contains("at line 3"), "{}", err);
    assert!(err.contains(">>> 'port notanumber'"), "{}", err);
    assert!(err.contains(&conf.display().to_string()), "{}", err);

    let out = Command::new(tripod_server_bin())
        .arg(dir.path().join("missing.conf"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn unimplemented_directives_are_refused() {
    let out = Command::new(tripod_server_bin())
        .args(["--cluster-enabled", "yes", "--port", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cluster-enabled"));
}

#[test]
fn source_document_config_with_trailing_comments_starts() {
    // The replica config of the source document, pointed at a local directory.
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let d = dir.path().display();
    let conf = format!(
        "bind 127.0.0.1            #表示redis允许所有地址连接。默认127.0.0.1，仅允许本地连接。\n\
         daemonize no             #允许redis后台运行\n\
         logfile \"{d}/redis.log\"    #设置redis日志存放路径\n\
         requirepass \"123456\"        #设置redis密码\n\
         protected-mode no      #设置为no，允许外部网络访问\n\
         port {port}             #修改redis监听端口(可以自定义)\n\
         pidfile \"{d}/redis.pid\"  #pid存放目录\n\
         requirepass 123456     #设置redis密码\n\
         masterauth 123456    #主从同步master的密码\n\
         dir {d}\n\
         save \"\"\n"
    );
    std::fs::write(dir.path().join("redis.conf"), conf).unwrap();
    let _server = Running::start(
        Command::new(tripod_server_bin()).arg(dir.path().join("redis.conf")),
        port,
    );
    let mut c = Conn::connect(port);
    assert_eq!(
        c.cmd(&[b"GET", b"x"]),
        b"-NOAUTH Authentication required.\r\n"
    );
    assert_eq!(c.cmd(&[b"AUTH", b"123456"]), b"+OK\r\n");
    assert_eq!(
        c.cmd(&[b"CONFIG", b"GET", b"bind"]),
        b"*2\r\n$4\r\nbind\r\n$9\r\n127.0.0.1\r\n"
    );
}

#[test]
fn debian_stock_config_starts_the_server() {
    let stock = std::path::Path::new("/etc/redis/redis.conf");
    assert!(stock.exists(), "Debian's redis-server package provides /etc/redis/redis.conf (the README's test command installs it)");
    // Start from the stock file, moving its paths and port to test-owned ones.
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let d = dir.path().display().to_string();
    let _server = Running::start(
        Command::new(tripod_server_bin()).arg(stock).args([
            "--port",
            &port.to_string(),
            "--daemonize",
            "no",
            "--dir",
            &d,
            "--logfile",
            &format!("{}/log", d),
            "--pidfile",
            &format!("{}/pid", d),
            "--save",
            "",
        ]),
        port,
    );
    let mut c = Conn::connect(port);
    assert_eq!(c.cmd(&[b"SET", b"k", b"v"]), b"+OK\r\n");
    assert_eq!(
        c.cmd(&[b"CONFIG", b"GET", b"databases"]),
        b"*2\r\n$9\r\ndatabases\r\n$2\r\n16\r\n"
    );
}
