//! Error replies used in more than one place, spelled once. A handler writes
//! them with `c.reply.error(errors::SYNTAX)`; the code (the first word) is what
//! INFO errorstats counts.

pub const SYNTAX: &str = "ERR syntax error";
pub const NOT_INTEGER: &str = "ERR value is not an integer or out of range";
pub const NOT_FLOAT: &str = "ERR value is not a valid float";
pub const OUT_OF_RANGE: &str = "ERR value is out of range";
pub const OUT_OF_RANGE_POSITIVE: &str = "ERR value is out of range, must be positive";
pub const DB_INDEX_OUT_OF_RANGE: &str = "ERR DB index is out of range";
pub const NUMKEYS_NOT_POSITIVE: &str = "ERR numkeys should be greater than 0";
pub const NO_SUCH_KEY: &str = "ERR no such key";
pub const MIN_MAX_NOT_FLOAT: &str = "ERR min or max is not a float";
pub const MIN_MAX_NOT_STRING_RANGE: &str = "ERR min or max not valid string range item";
pub const SHUTDOWN_FAILED: &str = "ERR Errors trying to SHUTDOWN. Check logs.";
pub const TIMEOUT_NOT_INTEGER: &str = "ERR timeout is not an integer or out of range";
pub const TIMEOUT_NEGATIVE: &str = "ERR timeout is negative";
pub const STRING_TOO_LONG: &str = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
pub const SAME_OBJECT: &str = "ERR source and destination objects are the same";
pub const INVALID_CURSOR: &str = "ERR invalid cursor";
pub const INCR_NAN: &str = "ERR increment would produce NaN or Infinity";
pub const INCR_OVERFLOW: &str = "ERR increment or decrement would overflow";
pub const BIT_OFFSET: &str = "ERR bit offset is not an integer or out of range";
pub const NO_CONFIG_FILE: &str = "ERR The server is running without a config file";
pub const LIMIT_NEGATIVE: &str = "ERR LIMIT can't be negative";
pub const BAD_CLIENT_NAME: &str =
    "ERR Client names cannot contain spaces, newlines or special characters.";
pub const BGSAVE_IN_PROGRESS: &str = "ERR Background save already in progress";
pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
