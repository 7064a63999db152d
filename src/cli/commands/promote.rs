//! `tripod promote INVENTORY NAME [--force]` (in progress).
use crate::cli::error::{Error, Result};
use crate::cli::inventory::Inventory;

pub async fn run(_inv: Inventory, _name: &str, _force: bool) -> Result<i32> {
    Err(Error::failed("promote: not implemented yet"))
}
