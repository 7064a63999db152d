//! The AOF at start, in Redis 7.0's order: the manifest is read whenever it
//! exists (aofLoadManifestFromDisk, even with `appendonly no`); with
//! `appendonly yes` the folder is loaded in place of the RDB
//! (loadAppendOnlyFiles, upgrading an old single `appendonly.aof` first),
//! then a base file is created if there is none and the last incremental
//! file opened (aofOpenIfNeededOnServerStart), and history files deleted.
//! Also DEBUG LOADAOF, which loads the folder again.

use super::loader::{self, Loaded};
use super::manifest::{self, Entry, Kind, Manifest};
use super::{dir, persist_manifest, prefix, State};
use crate::server::log;
use crate::server::state::Server;

/// Reads the manifest if the folder has one (an unreadable or invalid one
/// stops the start, logged as Redis does).
fn read_manifest(srv: &Server) -> Result<Manifest, String> {
    let d = dir(srv);
    let mpath = d.join(manifest::manifest_name(&prefix(srv)));
    if !d.is_dir() || !mpath.exists() {
        return Ok(Manifest::default());
    }
    let text = std::fs::read(&mpath).map_err(|e| {
        let msg = format!(
            "Fatal error: can't open the AOF manifest file {} for reading: {}",
            mpath.display(),
            e
        );
        log::warning(&msg);
        msg
    })?;
    Manifest::parse(&String::from_utf8_lossy(&text)).map_err(|e| {
        log::warning("\n*** FATAL AOF MANIFEST FILE ERROR ***\n");
        if let Some((n, line)) = &e.line {
            log::warning(&format!("Reading the manifest file, at line {}\n", n));
            log::warning(&format!(">>> '{}'\n", line));
        }
        log::warning(&format!("{}\n", e.msg));
        e.msg
    })
}

/// Loads the dataset from the AOF when `appendonly yes` and opens its
/// incremental file. Returns Ok(true) when the AOF decided the dataset (the
/// RDB is then not read again). With no AOF at all yet, the RDB is loaded
/// and becomes the first base (Redis starts empty there); an AOF whose
/// files are all empty is an empty dataset, as Redis. An unreadable,
/// truncated (with `aof-load-truncated no`) or corrupt AOF is an error, and
/// no file is created or changed.
pub fn load_and_open(srv: &mut Server) -> Result<bool, String> {
    super::refresh_config(srv);
    let mut m = read_manifest(srv)?;
    if !srv.config.appendonly {
        srv.aof.manifest = m;
        return Ok(false);
    }
    maybe_upgrade(srv, &mut m)?;
    srv.aof.state = State::On;
    if m.is_empty() && crate::server::rdb::rdb_path(srv).is_file() {
        // On purpose unlike Redis (which starts empty here): a server whose
        // configuration just turned `appendonly yes` on keeps its snapshot's
        // data, and the new AOF starts from it.
        log::warning(&format!(
            "No AOF yet: loading {} and writing it as the AOF base (Redis would start with an empty dataset)",
            crate::server::rdb::rdb_path(srv).display()
        ));
        crate::server::rdb::load_on_startup(srv)?;
    }
    if !m.is_empty() {
        let start = std::time::Instant::now();
        if load_files(srv, &m)? {
            log::notice(&format!(
                "DB loaded from append only file: {:.3} seconds",
                start.elapsed().as_secs_f64()
            ));
        }
    }
    open_on_start(srv, m)?;
    super::attach(srv);
    super::set_buffering(srv);
    Ok(true)
}

/// Redis 7.0's upgrade of an AOF of Redis < 7 (`appendonly.aof` in `dir`):
/// when the folder or its manifest is missing (or names that file but lacks
/// it), the file is moved into the folder as its base, keeping its name.
fn maybe_upgrade(srv: &Server, m: &mut Manifest) -> Result<(), String> {
    let pre = prefix(srv);
    if !std::path::Path::new(&pre).is_file() {
        return Ok(());
    }
    let d = dir(srv);
    let names_it = m.incrs.is_empty()
        && m.base.as_ref().is_some_and(|b| b.name == pre)
        && !d.join(&pre).exists();
    if d.is_dir() && !m.is_empty() && !names_it {
        return Ok(());
    }
    super::rewrite::ensure_dir(srv).map_err(|_| "can't create the AOF folder".to_string())?;
    let base = Entry {
        name: pre.clone(),
        seq: 1,
        kind: Kind::Base,
    };
    m.base = Some(base);
    m.base_seq = 1;
    persist_manifest(srv, m).map_err(|_| "can't persist the AOF manifest".to_string())?;
    if let Err(e) = std::fs::rename(&pre, d.join(&pre)) {
        let msg = format!(
            "Error trying to move the old AOF file {} into dir {}: {}",
            pre,
            d.display(),
            e
        );
        log::warning(&msg);
        return Err(msg);
    }
    log::notice(&format!(
        "Successfully migrated an old-style AOF file ({}) into the AOF directory ({}).",
        pre,
        d.display()
    ));
    Ok(())
}

/// Loads the base and the incremental files in order with Redis's log
/// lines (loadAppendOnlyFiles). Returns whether anything was loaded (false:
/// every file is empty); a missing or failing file is an error.
pub fn load_files(srv: &mut Server, m: &Manifest) -> Result<bool, String> {
    let d = dir(srv);
    let files: Vec<&Entry> = m.base.iter().chain(m.incrs.iter()).collect();
    let mut total = 0u64;
    let mut base_size = 0u64;
    for e in &files {
        match std::fs::metadata(d.join(&e.name)) {
            Ok(md) => {
                total += md.len();
                if e.kind == Kind::Base {
                    base_size = md.len();
                }
            }
            Err(err) => {
                log::warning(&format!(
                    "Unable to obtain the AOF file {} length. stat: {}",
                    e.name, err
                ));
                return Err(format!("The AOF file {} can't be read", e.name));
            }
        }
    }
    if total == 0 {
        return Ok(false);
    }
    let (dirty, stats) = (srv.dirty, srv.cmd_stats.clone());
    let processed = srv.stats.total_commands_processed;
    srv.loading = true;
    let n = files.len();
    let mut result = Ok(true);
    for (i, e) in files.iter().enumerate() {
        let path = d.join(&e.name);
        let start = std::time::Instant::now();
        let data = match std::fs::read(&path) {
            Ok(data) => data,
            Err(err) => {
                log::warning(&format!(
                    "Fatal error: can't open the append log file {} for reading: {}",
                    e.name, err
                ));
                result = Err(format!("can't open the AOF file {}", e.name));
                break;
            }
        };
        match loader::load_file(srv, &e.name, &path, &data, i + 1 == n) {
            Ok(Loaded::Ok) | Ok(Loaded::Truncated) => log::notice(&format!(
                "DB loaded from {} file {}: {:.3} seconds",
                if e.kind == Kind::Base { "base" } else { "incr" },
                e.name,
                start.elapsed().as_secs_f64()
            )),
            Ok(Loaded::Empty) => {}
            Err(()) => {
                result = Err(format!("can't load the AOF file {}", e.name));
                break;
            }
        }
    }
    srv.loading = false;
    srv.dirty = dirty;
    srv.cmd_stats = stats;
    srv.stats.total_commands_processed = processed;
    if result.is_ok() {
        srv.aof.current_size = total;
        srv.aof.rewrite_base_size = base_size;
    }
    result
}

/// Creates the base file when the folder has none (an empty dataset's),
/// opens the last incremental file (creating one if needed), persists the
/// manifest and deletes history files (aofOpenIfNeededOnServerStart).
fn open_on_start(srv: &mut Server, mut m: Manifest) -> Result<(), String> {
    super::rewrite::ensure_dir(srv).map_err(|_| "can't create the AOF folder".to_string())?;
    let pre = prefix(srv);
    let d = dir(srv);
    let had_incr = !m.incrs.is_empty();
    let mut changed = false;
    if m.is_empty() {
        let name = m.new_base(&pre, super::use_rdb_preamble(srv));
        super::rewrite::write_base(srv, &d.join(&name))
            .map_err(|_| format!("can't create the AOF base file {}", name))?;
        log::notice(&format!("Creating AOF base file {} on server start", name));
        changed = true;
    }
    let name = match m.incrs.last() {
        Some(e) => e.name.clone(),
        None => {
            changed = true;
            m.new_incr(&pre)
        }
    };
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(d.join(&name))
        .map_err(|e| {
            let msg = format!("Can't open the append-only file {}: {}", name, e);
            log::warning(&msg);
            msg
        })?;
    if changed {
        persist_manifest(srv, &m).map_err(|_| "can't persist the AOF manifest".to_string())?;
    }
    let size = file.metadata().map_or(0, |md| md.len());
    srv.aof.last_incr_size = size;
    srv.aof.last_incr_fsync_offset = size;
    srv.aof.file = Some(file);
    srv.aof.manifest = m;
    log::notice(&format!(
        "{} AOF incr file {} on server start",
        if had_incr { "Opening" } else { "Creating" },
        name
    ));
    super::rewrite::delete_history(srv);
    Ok(())
}

/// DEBUG LOADAOF: flushes the AOF, empties the dataset and loads the folder
/// again as at start. Err: the folder can't be loaded (Redis then exits).
pub fn debug_loadaof(srv: &mut Server) -> Result<(), String> {
    if srv.aof.state == State::On {
        super::flush(srv, true);
    }
    for db in srv.dbs.iter_mut() {
        db.clear();
    }
    let m = read_manifest(srv)?;
    srv.aof.manifest = m.clone();
    super::rewrite::delete_history(srv);
    // What the loaded commands queue belongs to no one: DEBUG's own unit
    // would otherwise carry it to the AOF and the replicas.
    let mark = srv.propagation_mark();
    let was = srv.aof.pending.borrow().enabled;
    srv.aof.pending.borrow_mut().enabled = false;
    let res = load_files(srv, &m);
    srv.aof.pending.borrow_mut().enabled = was;
    srv.propagation_truncate(mark);
    res?;
    srv.dirty = 0;
    log::notice("Append Only File loaded by DEBUG LOADAOF");
    Ok(())
}
