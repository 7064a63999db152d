//! RDB persistence: round trips through tripod-server, files exchanged with a
//! real Redis 7 (both ways, plus redis-check-rdb), corrupt files, SAVE/BGSAVE,
//! save on shutdown and INFO persistence.
mod common;
use common::*;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn tripod() -> std::path::PathBuf {
    tripod_server_bin()
}

fn redis() -> std::path::PathBuf {
    redis_server_bin().expect("redis-server must be installed")
}

#[test]
fn round_trip_through_tripod() {
    let data = tempfile::tempdir().unwrap();
    let mut a = start_in(&tripod(), data.path(), &[]);
    let mut c = a.conn();
    fill_mixed(&mut c);
    let before = dump(&mut c, 16);
    assert!(before.len() > 20);
    assert_eq!(c.c(&["SAVE"]), "+OK\r\n");
    a.terminate();
    let b = start_in(&tripod(), data.path(), &[]);
    let after = dump(&mut b.conn(), 16);
    assert_eq!(before, after);
}

#[test]
fn redis_loads_what_tripod_wrote() {
    let data = tempfile::tempdir().unwrap();
    let mut t = start_in(&tripod(), data.path(), &[]);
    let mut c = t.conn();
    fill_mixed(&mut c);
    let want = dump(&mut c, 16);
    c.c(&["SAVE"]);
    t.terminate();
    let rdb = data.path().join("dump.rdb");
    let check = Command::new("redis-check-rdb")
        .arg(&rdb)
        .output()
        .expect("redis-check-rdb");
    assert!(
        check.status.success(),
        "redis-check-rdb refused the file:\n{}",
        String::from_utf8_lossy(&check.stdout)
    );
    let r = start_in(&redis(), data.path(), &[]);
    assert_eq!(dump(&mut r.conn(), 16), want);
}

#[test]
fn tripod_loads_what_redis_wrote() {
    let data = tempfile::tempdir().unwrap();
    let mut r = start_in(&redis(), data.path(), &[]);
    let mut c = r.conn();
    fill_mixed(&mut c);
    let want = dump(&mut c, 16);
    assert_eq!(c.c(&["SAVE"]), "+OK\r\n");
    r.terminate();
    let t = start_in(&tripod(), data.path(), &[]);
    let mut tc = t.conn();
    assert_eq!(dump(&mut tc, 16), want);
    // Encodings chosen on load match Redis's for the compact types.
    assert_eq!(
        tc.c(&["OBJECT", "ENCODING", "set:ints"]),
        "$6\r\nintset\r\n"
    );
    assert_eq!(
        tc.c(&["OBJECT", "ENCODING", "hash:small"]),
        "$8\r\nlistpack\r\n"
    );
    assert_eq!(
        tc.c(&["OBJECT", "ENCODING", "zset:big"]),
        "$8\r\nskiplist\r\n"
    );
}

#[test]
fn file_sizes_stay_close_to_redis() {
    let (td, rd) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut t = start_in(&tripod(), td.path(), &[]);
    let mut r = start_in(&redis(), rd.path(), &[]);
    fill_mixed(&mut t.conn());
    fill_mixed(&mut r.conn());
    t.conn().c(&["SAVE"]);
    r.conn().c(&["SAVE"]);
    t.terminate();
    r.terminate();
    let ts = std::fs::metadata(td.path().join("dump.rdb")).unwrap().len() as f64;
    let rs = std::fs::metadata(rd.path().join("dump.rdb")).unwrap().len() as f64;
    assert!(
        ts <= rs * 1.1,
        "tripod file {} bytes vs redis {} bytes",
        ts,
        rs
    );
}

/// Starts tripod-server on a data dir expected to hold a bad file: it must exit
/// with status 1 and say what is wrong.
fn refuses_to_start(data: &Path) -> String {
    let port = free_port().to_string();
    let out = Command::new(tripod())
        .args([
            "--port",
            &port,
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--dir",
        ])
        .arg(data)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("Fatal error loading the DB"), "{}", text);
    text
}

fn good_file() -> (tempfile::TempDir, Vec<u8>) {
    let data = tempfile::tempdir().unwrap();
    let mut t = start_in(&tripod(), data.path(), &["--rdbcompression", "no"]);
    let mut c = t.conn();
    c.c(&["SET", "k1", "hello world"]);
    c.c(&["RPUSH", "l", "a", "b"]);
    c.c(&["SAVE"]);
    t.terminate();
    let bytes = std::fs::read(data.path().join("dump.rdb")).unwrap();
    (data, bytes)
}

#[test]
fn corrupt_files_stop_the_start() {
    let (data, bytes) = good_file();
    let path = data.path().join("dump.rdb");
    // Truncated.
    std::fs::write(&path, &bytes[..bytes.len() - 15]).unwrap();
    let t = refuses_to_start(data.path());
    assert!(t.contains("truncated"), "{}", t);
    // Wrong checksum.
    let mut bad = bytes.clone();
    let n = bad.len();
    bad[n - 1] ^= 0xff;
    std::fs::write(&path, &bad).unwrap();
    let t = refuses_to_start(data.path());
    assert!(t.contains("checksum"), "{}", t);
    // A flipped byte inside the data is caught by the checksum too.
    let mut bad = bytes.clone();
    let pos = bytes.windows(11).position(|w| w == b"hello world").unwrap();
    bad[pos] = b'j';
    std::fs::write(&path, &bad).unwrap();
    refuses_to_start(data.path());
    // A bad opcode / unknown type (checksum disabled so that the opcode is what fails).
    let mut bad = bytes.clone();
    let n = bad.len();
    bad[n - 8..].copy_from_slice(&[0; 8]);
    let eof = n - 9;
    assert_eq!(bad[eof], 0xff);
    bad.insert(eof, 0x42);
    std::fs::write(&path, &bad).unwrap();
    let t = refuses_to_start(data.path());
    assert!(t.contains("unknown RDB value type or opcode 66"), "{}", t);
    // Not an RDB file at all.
    std::fs::write(&path, b"hello, this is not an rdb file").unwrap();
    let t = refuses_to_start(data.path());
    assert!(t.contains("signature"), "{}", t);
    // The bad file is left in place, untouched.
    assert_eq!(
        std::fs::read(&path).unwrap(),
        b"hello, this is not an rdb file"
    );
}

#[test]
fn bgsave_serves_clients_and_refuses_a_second_one() {
    let data = tempfile::tempdir().unwrap();
    let t = start_in(&tripod(), data.path(), &[]);
    let mut c = t.conn();
    // Enough data that the child takes a moment.
    let v = "v".repeat(1000);
    let mut batch = Vec::new();
    for i in 0..100_000 {
        batch.extend_from_slice(&encode(&[
            b"SET",
            format!("key:{}", i).as_bytes(),
            v.as_bytes(),
        ]));
    }
    c.send(&batch);
    for _ in 0..100_000 {
        c.read_reply();
    }
    assert_eq!(c.c(&["BGSAVE"]), "+Background saving started\r\n");
    let second = c.c(&["BGSAVE"]);
    let scheduled = c.c(&["BGSAVE", "SCHEDULE"]);
    // While the child runs, the parent answers.
    assert_eq!(c.c(&["PING"]), "+PONG\r\n");
    assert_eq!(c.c(&["BGSAVE", "FOO"]), "-ERR syntax error\r\n");
    wait_until("bgsave to finish", Duration::from_secs(30), || {
        let info = c.c(&["INFO", "persistence"]);
        info.contains("rdb_bgsave_in_progress:0")
            && !c
                .c(&["INFO", "persistence"])
                .contains("rdb_bgsave_in_progress:1")
    });
    if second.starts_with('-') {
        // As Redis 7.0: SCHEDULE only waits for another kind of child (an
        // AOF rewrite); a second BGSAVE is refused either way.
        assert_eq!(second, "-ERR Background save already in progress\r\n");
        assert_eq!(scheduled, "-ERR Background save already in progress\r\n");
    }
    let info = c.c(&["INFO", "persistence"]);
    assert!(info.contains("rdb_last_bgsave_status:ok"), "{}", info);
    assert!(data.path().join("dump.rdb").exists());
    let mut t = t;
    t.terminate();
    let b = start_in(&tripod(), data.path(), &[]);
    assert_eq!(b.conn().c(&["DBSIZE"]), ":100000\r\n");
}

#[test]
fn save_rules_shutdown_and_sigterm_save() {
    let data = tempfile::tempdir().unwrap();
    // A save rule of 1 change in 1 second: the cron saves by itself.
    let t = start_in(&tripod(), data.path(), &["--save", "1 1"]);
    let mut c = t.conn();
    c.c(&["SET", "a", "1"]);
    wait_until("the save rule to fire", Duration::from_secs(10), || {
        c.c(&["INFO", "persistence"])
            .contains("rdb_changes_since_last_save:0")
    });
    assert!(data.path().join("dump.rdb").exists());
    // SIGTERM with save rules saves first.
    c.c(&["SET", "b", "2"]);
    let mut t = t;
    let st = t.terminate().unwrap();
    assert!(st.success());
    let t2 = start_in(&tripod(), data.path(), &["--save", "3600 1"]);
    let mut c2 = t2.conn();
    assert_eq!(c2.c(&["GET", "b"]), "$1\r\n2\r\n");
    // SHUTDOWN NOSAVE does not save; SHUTDOWN SAVE does even without rules.
    c2.c(&["SET", "c", "3"]);
    c2.send(&encode(&[b"SHUTDOWN", b"NOSAVE"]));
    let _ = c2.read_to_close();
    let mut t2 = t2;
    t2.terminate();
    let t3 = start_in(&tripod(), data.path(), &[]);
    let mut c3 = t3.conn();
    assert_eq!(c3.c(&["GET", "c"]), "$-1\r\n");
    c3.c(&["SET", "d", "4"]);
    c3.send(&encode(&[b"SHUTDOWN", b"SAVE"]));
    let _ = c3.read_to_close();
    let mut t3 = t3;
    t3.terminate();
    let t4 = start_in(&tripod(), data.path(), &[]);
    assert_eq!(t4.conn().c(&["GET", "d"]), "$1\r\n4\r\n");
}

#[test]
fn failed_save_keeps_the_old_file_and_reports() {
    let data = tempfile::tempdir().unwrap();
    let t = start_in(&tripod(), data.path(), &["--save", "3600 100"]);
    let mut c = t.conn();
    c.c(&["SET", "a", "1"]);
    assert_eq!(c.c(&["SAVE"]), "+OK\r\n");
    let old = std::fs::read(data.path().join("dump.rdb")).unwrap();
    // The temporary file cannot be created (a directory holds its name): the
    // save fails as a full or unwritable disk would make it fail. (Tests run as
    // root, which ignores permissions, so a read-only directory would not do.)
    std::fs::create_dir(data.path().join(format!("temp-{}.rdb", t.pid))).unwrap();
    c.c(&["SET", "b", "2"]);
    assert_eq!(c.c(&["SAVE"]), "-ERR\r\n");
    let info = c.c(&["INFO", "persistence"]);
    assert!(info.contains("rdb_last_bgsave_status:err"), "{}", info);
    assert!(info.contains("rdb_changes_since_last_save:1"), "{}", info);
    assert_eq!(std::fs::read(data.path().join("dump.rdb")).unwrap(), old);
    // Writes are refused while the last save failed (stop-writes-on-bgsave-error).
    assert!(c.c(&["SET", "c", "3"]).starts_with("-MISCONF"));
    let log = std::fs::read_to_string(t.dir.path().join("server.log")).unwrap();
    assert!(log.contains("Failed opening the temp RDB file"), "{}", log);
}

#[test]
fn info_persistence_reports_saves() {
    let data = tempfile::tempdir().unwrap();
    let t = start_in(&tripod(), data.path(), &[]);
    let mut c = t.conn();
    c.c(&["SET", "a", "1"]);
    c.c(&["SET", "b", "1"]);
    let info = c.c(&["INFO", "persistence"]);
    assert!(info.contains("rdb_changes_since_last_save:2"), "{}", info);
    let before: i64 = c
        .c(&["LASTSAVE"])
        .trim_start_matches(':')
        .trim()
        .parse()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    c.c(&["SAVE"]);
    let after: i64 = c
        .c(&["LASTSAVE"])
        .trim_start_matches(':')
        .trim()
        .parse()
        .unwrap();
    assert!(after > before);
    let info = c.c(&["INFO", "persistence"]);
    assert!(info.contains("rdb_changes_since_last_save:0"), "{}", info);
    assert!(info.contains("rdb_saves:1"), "{}", info);
}

#[test]
fn a_failed_background_save_is_logged_and_reported() {
    let data = tempfile::tempdir().unwrap();
    let t = start_in(&tripod(), data.path(), &[]);
    let mut c = t.conn();
    c.c(&["SET", "a", "1"]);
    // The final name is taken by a non-empty directory: the rename fails.
    std::fs::create_dir(data.path().join("dump.rdb")).unwrap();
    std::fs::write(data.path().join("dump.rdb").join("x"), b"x").unwrap();
    assert_eq!(c.c(&["BGSAVE"]), "+Background saving started\r\n");
    wait_until("the failed save", Duration::from_secs(10), || {
        c.c(&["INFO", "persistence"])
            .contains("rdb_last_bgsave_status:err")
    });
    let log = std::fs::read_to_string(t.dir.path().join("server.log")).unwrap();
    assert!(log.contains("Background saving error"), "{}", log);
    assert!(log.contains("Error moving temp DB file"), "{}", log);
    // No temporary file is left behind.
    let temps = std::fs::read_dir(data.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("temp-")
        })
        .count();
    assert_eq!(temps, 0);
}

#[test]
fn tripod_loads_redis_files_with_idle_freq_and_functions() {
    for policy in ["allkeys-lru", "allkeys-lfu"] {
        let data = tempfile::tempdir().unwrap();
        let mut r = start_in(&redis(), data.path(), &["--maxmemory-policy", policy]);
        let mut c = r.conn();
        c.c(&["SET", "a", "1"]);
        c.c(&["HSET", "h", "f", "v"]);
        let f = c.c(&["FUNCTION", "LOAD", "#!lua name=mylib\nredis.register_function('myfunc', function(keys, args) return 1 end)"]);
        assert!(f.contains("mylib"), "{}", f);
        let want = dump(&mut c, 16);
        assert_eq!(c.c(&["SAVE"]), "+OK\r\n");
        r.terminate();
        let t = start_in(&tripod(), data.path(), &[]);
        let mut tc = t.conn();
        assert_eq!(dump(&mut tc, 16), want);
        // The library came along and runs.
        assert!(tc.c(&["FUNCTION", "LIST"]).contains("mylib"));
        assert_eq!(tc.c(&["FCALL", "myfunc", "0"]), ":1\r\n");
    }
}
