//! Redis Sentinel over the group, for inventories with a `sentinel:` section. tripod deploys
//! Redis's own Sentinel (uploaded with `binary:` or already installed, `command:`), one next to
//! each listed host, monitoring the master under the name `cluster`, and cooperates with it:
//! when Sentinels run, the master is the one they name.
//!
//! - [`host`]: a Sentinel's files and process on its host (inspect, upload, start, stop);
//! - [`ask`]: asking Sentinels (their master, quorum, fields) and what they say together;
//! - [`follow`]: before deploy, the master Sentinel names becomes the inventory's master (the
//!   inventory is rewritten, as promote does, with a note that Sentinel made the change);
//! - [`plan`]: deploy's Sentinel part: per Sentinel keep, start, reconfigure at run time
//!   (SENTINEL SET) or restart, decided from tripod's last render, never from the config
//!   Sentinel rewrote; carried out after the data nodes, then verified;
//! - [`failover`]: promote through Sentinel (SENTINEL FAILOVER with replica priorities steering
//!   its choice, writes paused on the old master until the new one has every byte);
//! - [`switch`]: deploy's master handover, through Sentinel when Sentinels run.
pub mod ask;
pub mod failover;
pub mod follow;
pub mod host;
pub mod plan;
pub mod switch;
