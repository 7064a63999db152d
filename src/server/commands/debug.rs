//! DEBUG subcommands owned by other parts of the server than server_admin.

use crate::server::client::Client;
use crate::server::resp::errors;
use crate::server::state::Server;

/// DEBUG subcommands owned by other parts of the server (RELOAD by persistence,
/// DIGEST and DIGEST-VALUE by replication). Returns false if `argv[1]` is not one.
pub fn debug_extension(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) -> bool {
    use crate::server::replication::digest;
    let sub = argv[1].to_ascii_lowercase();
    match &sub[..] {
        b"digest" if argv.len() == 2 => {
            let d = digest::dataset_digest(&srv.dbs);
            c.reply.simple(&digest::hex(&d));
        }
        b"digest-value" => {
            c.reply.array(argv.len() - 2);
            for k in &argv[2..] {
                let d = digest::value_digest(srv.dbs[c.db].get(k));
                c.reply.simple(&digest::hex(&d));
            }
        }
        b"populate" if argv.len() >= 3 && argv.len() <= 5 => {
            // DEBUG POPULATE count [prefix] [size]: keys prefix:N holding
            // "value:N" (padded with zero bytes, or cut, to `size`); existing
            // keys are left alone. As Redis, this does not propagate.
            let Some(count) = crate::server::util::parse_i64(&argv[2]).filter(|n| *n >= 0) else {
                c.reply.error(errors::OUT_OF_RANGE_POSITIVE);
                return true;
            };
            let prefix = argv.get(3).cloned().unwrap_or_else(|| b"key".to_vec());
            let size = match argv.get(4).map(|a| crate::server::util::parse_i64(a)) {
                None => None,
                Some(Some(n)) if n >= 0 => Some(n as usize),
                Some(_) => {
                    c.reply.error(errors::OUT_OF_RANGE_POSITIVE);
                    return true;
                }
            };
            let db = c.db;
            for j in 0..count {
                let mut key = prefix.clone();
                key.push(b':');
                key.extend_from_slice(j.to_string().as_bytes());
                if srv.dbs[db].get(&key).is_some() {
                    continue;
                }
                let text = format!("value:{}", j).into_bytes();
                let value = match size {
                    None => text,
                    Some(n) => {
                        let mut v = vec![0u8; n];
                        let k = n.min(text.len());
                        v[..k].copy_from_slice(&text[..k]);
                        v
                    }
                };
                srv.dbs[db].set(&key, crate::server::types::Value::Str(value), false);
            }
            c.reply.ok();
        }
        b"reload" => {
            // Save, then load the file back (what a restart would do).
            if let Err(e) = crate::server::rdb::save(srv) {
                c.reply
                    .error(&format!("ERR Error trying to save the DB: {}", e));
                return true;
            }
            match crate::server::rdb::load_on_startup(srv) {
                Ok(()) => c.reply.ok(),
                Err(e) => c
                    .reply
                    .error(&format!("ERR Error trying to load the RDB dump: {}", e)),
            }
        }
        _ => return false,
    }
    true
}
