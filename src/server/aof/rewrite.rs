//! Writing a base file (the dataset as an RDB, Redis's RDB preamble) and
//! removing the history files a rewrite left.

use super::manifest::Manifest;
use super::{dir, persist_manifest};
use crate::server::state::Server;
use crate::server::util::now_ms;

/// Writes the dataset as an RDB base file at `path` (a temporary file,
/// fsynced, renamed).
pub fn write_base(srv: &Server, path: &std::path::Path) -> Result<(), String> {
    use std::io::Write;
    let tmp = path.with_file_name(format!("temp-rewriteaof-{}.aof", std::process::id()));
    let write = || -> std::io::Result<()> {
        let file = std::fs::File::create(&tmp)?;
        let mut w = std::io::BufWriter::with_capacity(1 << 16, file);
        let meta = crate::server::rdb::writer::Meta {
            repl: None,
            compress: srv.config.rdbcompression,
            checksum: srv.config.rdbchecksum,
            used_mem: crate::server::memory::used() as u64,
            ctime: now_ms() / 1000,
            functions: srv.scripting.functions.codes(),
        };
        crate::server::rdb::writer::write(&srv.dbs, &mut w, &meta)?;
        w.flush()?;
        w.get_ref().sync_all()?;
        drop(w);
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("Error writing the AOF base file {}: {}", path.display(), e)
    })
}

/// Deletes the history files the manifest lists and drops them from it
/// (Redis's aofDelHistoryFiles), unless aof-disable-auto-gc is on.
pub fn delete_history(srv: &Server, m: &mut Manifest) {
    if m.history.is_empty() || srv.config.get("aof-disable-auto-gc").as_deref() == Some("yes") {
        return;
    }
    let d = dir(srv);
    for h in std::mem::take(&mut m.history) {
        crate::server::log::notice(&format!(
            "Removing the history file {} in the background",
            h.name
        ));
        let _ = std::fs::remove_file(d.join(&h.name));
    }
    let _ = persist_manifest(srv, m);
}
