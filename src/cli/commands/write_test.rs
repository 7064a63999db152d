//! `tripod write-test INVENTORY [--keys N] [--json] [--keep]` (in progress).
use crate::cli::error::{Error, Result};
use crate::cli::inventory::Inventory;

pub async fn run(_inv: Inventory, _keys: usize, _json: bool, _keep: bool) -> Result<i32> {
    Err(Error::failed("write-test: not implemented yet"))
}
