//! The AOF at start: loading the folder the manifest describes (preferred to
//! the RDB when `appendonly yes`, as Redis), upgrading an old single
//! `appendonly.aof`, and creating the base and incremental files when there
//! are none (Redis 7.0's `aofOpenIfNeededOnServerStart`).

use super::loader::{self, Outcome};
use super::manifest::{self, Entry, Kind, Manifest};
use super::{dir, persist_manifest, prefix};
use crate::server::log;
use crate::server::state::Server;
use crate::server::util::now_ms;

/// Loads the AOF (when `appendonly yes`) and opens its incremental file.
/// Returns Ok(true) when the AOF decided the dataset (the RDB is then not
/// loaded); an unreadable or corrupt AOF is an error and nothing is written.
pub fn load_and_open(srv: &mut Server) -> Result<bool, String> {
    if !srv.config.appendonly {
        return Ok(false);
    }
    let d = dir(srv);
    let pre = prefix(srv);
    let mpath = d.join(manifest::manifest_name(&pre));
    let mut m = if mpath.exists() {
        let text = std::fs::read_to_string(&mpath)
            .map_err(|e| format!("Can't open the AOF manifest {}: {}", mpath.display(), e))?;
        Manifest::parse(&text)?
    } else if std::path::Path::new(&pre).is_file() {
        upgrade_single_file(srv, &pre)?
    } else {
        Manifest::default()
    };
    if m.base.is_some() || !m.incrs.is_empty() {
        load_files(srv, &m)?;
    }
    if !d.exists() {
        std::fs::create_dir_all(&d).map_err(|e| {
            format!(
                "Can't open or create append-only dir {}: {}",
                d.display(),
                e
            )
        })?;
    }
    let mut changed = false;
    if m.base.is_none() && m.incrs.is_empty() {
        // The base is always written as an RDB (a base of commands, for
        // aof-use-rdb-preamble no, is not implemented).
        let name = manifest::base_name(&pre, 1, true);
        super::rewrite::write_base(srv, &d.join(&name))?;
        log::notice(&format!("Creating AOF base file {} on server start", name));
        m.base = Some(Entry {
            name,
            seq: 1,
            kind: Kind::Base,
        });
        changed = true;
    }
    if m.incrs.is_empty() {
        let seq = m.next_incr_seq();
        let name = manifest::incr_name(&pre, seq);
        m.incrs.push(Entry {
            name: name.clone(),
            seq,
            kind: Kind::Incr,
        });
        super::open_incr(srv, &name)?;
        log::notice(&format!("Creating AOF incr file {} on server start", name));
        changed = true;
    }
    if changed {
        persist_manifest(srv, &m)?;
    }
    let last = m.incrs.last().map(|e| e.name.clone()).unwrap_or_default();
    let file = super::open_incr(srv, &last)?;
    srv.aof.base_size = sizes(srv, &m);
    srv.aof.current_size = srv.aof.base_size;
    srv.aof.writer = Some(super::writer::Writer::new(file));
    super::rewrite::delete_history(srv, &mut m);
    srv.aof.manifest = m;
    srv.aof.on = true;
    super::attach(srv);
    Ok(true)
}

/// The total size of the files the manifest lists.
fn sizes(srv: &Server, m: &Manifest) -> u64 {
    let d = dir(srv);
    m.base
        .iter()
        .chain(m.incrs.iter())
        .filter_map(|e| std::fs::metadata(d.join(&e.name)).ok())
        .map(|md| md.len())
        .sum()
}

/// An AOF of Redis < 7 (`appendonly.aof` in `dir`): moved into the folder
/// as its base file, keeping its name, as Redis 7.0 upgrades it.
fn upgrade_single_file(srv: &Server, pre: &str) -> Result<Manifest, String> {
    let d = dir(srv);
    std::fs::create_dir_all(&d).map_err(|e| {
        format!(
            "Can't open or create append-only dir {}: {}",
            d.display(),
            e
        )
    })?;
    let m = Manifest {
        base: Some(Entry {
            name: pre.to_string(),
            seq: 1,
            kind: Kind::Base,
        }),
        ..Default::default()
    };
    // Move first, then persist the manifest naming the moved file.
    std::fs::rename(pre, d.join(pre))
        .map_err(|e| format!("Error trying to rename the old AOF file {}: {}", pre, e))?;
    persist_manifest(srv, &m)?;
    log::notice(&format!(
        "Successfully migrated an old-style AOF {} into the AOF directory {}.",
        pre,
        d.display()
    ));
    Ok(m)
}

/// Loads the base and the incremental files in order, with Redis's log
/// lines; a truncated last file is cut (aof-load-truncated yes) or refused.
fn load_files(srv: &mut Server, m: &Manifest) -> Result<(), String> {
    let start = std::time::Instant::now();
    let d = dir(srv);
    let files: Vec<&Entry> = m.base.iter().chain(m.incrs.iter()).collect();
    let n = files.len();
    srv.loading = true;
    let res = (|| {
        for (i, e) in files.iter().enumerate() {
            let path = d.join(&e.name);
            let data = match std::fs::read(&path) {
                Ok(d) => d,
                Err(err) if err.kind() == std::io::ErrorKind::NotFound && e.kind == Kind::Incr => {
                    return Err(format!("The AOF file {} doesn't exist", e.name));
                }
                Err(err) => {
                    return Err(format!(
                        "Fatal error: can't open the append log file {} for reading: {}",
                        e.name, err
                    ))
                }
            };
            if data.is_empty() {
                continue;
            }
            let mut at = 0;
            if data.starts_with(b"REDIS") {
                log::notice("Reading RDB base file on AOF loading...");
                let mut r: &[u8] = &data;
                let drop_before = if srv.config.replicaof.is_some() {
                    None
                } else {
                    Some(now_ms())
                };
                let loaded =
                    crate::server::rdb::reader::read(&mut r, srv.config.databases, drop_before)
                        .map_err(|err| format!("{} while reading the AOF file {}", err, e.name))?;
                crate::server::rdb::install(srv, loaded);
                at = data.len() - r.len();
                log::notice("Reading the remaining AOF tail...");
            }
            match loader::apply(srv, &data, at) {
                Outcome::Complete => {}
                Outcome::Corrupt { offset } => {
                    return Err(format!(
                        "Bad file format reading the append only file {} at offset {}: make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>",
                        e.name, offset
                    ));
                }
                Outcome::Truncated { valid_up_to } => {
                    let last = i + 1 == n;
                    if !last || srv.config.get("aof-load-truncated").as_deref() != Some("yes") {
                        return Err(format!(
                            "Unexpected end of file reading the append only file {}. You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.",
                            e.name
                        ));
                    }
                    log::warning(&format!(
                        "!!! Warning: short read while loading the AOF file {}!!!",
                        e.name
                    ));
                    log::warning(&format!(
                        "!!! Truncating the AOF {} at offset {} !!!",
                        e.name, valid_up_to
                    ));
                    let f = std::fs::OpenOptions::new().write(true).open(&path);
                    if let Err(err) = f.and_then(|f| f.set_len(valid_up_to as u64)) {
                        return Err(format!("Error truncating the AOF file {}: {}", e.name, err));
                    }
                    log::warning(&format!(
                        "AOF {} loaded anyway because aof-load-truncated is enabled",
                        e.name
                    ));
                }
            }
            log::notice(&format!(
                "DB loaded from {} file {}: {:.3} seconds",
                if e.kind == Kind::Base { "base" } else { "incr" },
                e.name,
                start.elapsed().as_secs_f64()
            ));
        }
        Ok(())
    })();
    srv.loading = false;
    res?;
    log::notice(&format!(
        "DB loaded from append only file: {:.3} seconds",
        start.elapsed().as_secs_f64()
    ));
    Ok(())
}
