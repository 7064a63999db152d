//! Redis 7.0's ACL command categories (`ACL CAT`), as bits, in Redis's table order.

pub const C_KEYSPACE: u32 = 1 << 0;
pub const C_READ: u32 = 1 << 1;
pub const C_WRITE: u32 = 1 << 2;
pub const C_SET: u32 = 1 << 3;
pub const C_SORTEDSET: u32 = 1 << 4;
pub const C_LIST: u32 = 1 << 5;
pub const C_HASH: u32 = 1 << 6;
pub const C_STRING: u32 = 1 << 7;
pub const C_BITMAP: u32 = 1 << 8;
pub const C_HYPERLOGLOG: u32 = 1 << 9;
pub const C_GEO: u32 = 1 << 10;
pub const C_STREAM: u32 = 1 << 11;
pub const C_PUBSUB: u32 = 1 << 12;
pub const C_ADMIN: u32 = 1 << 13;
pub const C_FAST: u32 = 1 << 14;
pub const C_SLOW: u32 = 1 << 15;
pub const C_BLOCKING: u32 = 1 << 16;
pub const C_DANGEROUS: u32 = 1 << 17;
pub const C_CONNECTION: u32 = 1 << 18;
pub const C_TRANSACTION: u32 = 1 << 19;
pub const C_SCRIPTING: u32 = 1 << 20;

/// The category names, bit i being NAMES[i] (the order ACL CAT lists them).
pub const NAMES: [&str; 21] = [
    "keyspace",
    "read",
    "write",
    "set",
    "sortedset",
    "list",
    "hash",
    "string",
    "bitmap",
    "hyperloglog",
    "geo",
    "stream",
    "pubsub",
    "admin",
    "fast",
    "slow",
    "blocking",
    "dangerous",
    "connection",
    "transaction",
    "scripting",
];

/// The bit of a category name (case-insensitive, without the `@`), if Redis knows it.
pub fn by_name(name: &[u8]) -> Option<u32> {
    NAMES
        .iter()
        .position(|n| n.as_bytes().eq_ignore_ascii_case(name))
        .map(|i| 1 << i)
}

/// `@name` for every bit set in `bits`, in table order (COMMAND INFO's form).
pub fn names_of(bits: u32) -> Vec<&'static str> {
    const AT: [&str; 21] = [
        "@keyspace",
        "@read",
        "@write",
        "@set",
        "@sortedset",
        "@list",
        "@hash",
        "@string",
        "@bitmap",
        "@hyperloglog",
        "@geo",
        "@stream",
        "@pubsub",
        "@admin",
        "@fast",
        "@slow",
        "@blocking",
        "@dangerous",
        "@connection",
        "@transaction",
        "@scripting",
    ];
    (0..21)
        .filter(|i| bits & (1 << i) != 0)
        .map(|i| AT[i])
        .collect()
}
