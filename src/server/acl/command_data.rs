//! Redis 7.0's ACL categories and key specs of every command (taken from
//! Redis 7.0.15's COMMAND INFO), sorted by name for binary search. Subcommands
//! are named `parent|sub`.

use super::categories::*;
use super::keyspec::*;

/// One command's ACL facts: name, category bits, key specs.
pub type CommandAcl = (&'static str, u32, &'static [KeySpec]);

/// Every command of Redis 7.0, by name.
pub static COMMANDS: &[CommandAcl] = &[
    ("acl", C_SLOW, &[]),
    ("acl|cat", C_SLOW, &[]),
    ("acl|deluser", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    ("acl|dryrun", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    ("acl|genpass", C_SLOW, &[]),
    ("acl|getuser", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    ("acl|help", C_SLOW, &[]),
    ("acl|list", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    ("acl|load", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    ("acl|log", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    ("acl|save", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    ("acl|setuser", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    ("acl|users", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    ("acl|whoami", C_SLOW, &[]),
    (
        "append",
        C_WRITE | C_STRING | C_FAST,
        &[KeySpec {
            flags: RW | INSERT,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    ("asking", C_FAST | C_CONNECTION, &[]),
    ("auth", C_FAST | C_CONNECTION, &[]),
    ("bgrewriteaof", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    ("bgsave", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    (
        "bitcount",
        C_READ | C_BITMAP | C_SLOW,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "bitfield",
        C_WRITE | C_BITMAP | C_SLOW,
        &[KeySpec {
            flags: RW | ACCESS | UPDATE | VARIABLE_FLAGS,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "bitfield_ro",
        C_READ | C_BITMAP | C_FAST,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "bitop",
        C_WRITE | C_BITMAP | C_SLOW,
        &[
            KeySpec {
                flags: OW | UPDATE,
                begin: Begin::Index(2),
                find: Find::Range(0, 1, 0),
            },
            KeySpec {
                flags: RO | ACCESS,
                begin: Begin::Index(3),
                find: Find::Range(-1, 1, 0),
            },
        ],
    ),
    (
        "bitpos",
        C_READ | C_BITMAP | C_SLOW,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "blmove",
        C_WRITE | C_LIST | C_SLOW | C_BLOCKING,
        &[
            KeySpec {
                flags: RW | ACCESS | DELETE,
                begin: Begin::Index(1),
                find: Find::Range(0, 1, 0),
            },
            KeySpec {
                flags: RW | INSERT,
                begin: Begin::Index(2),
                find: Find::Range(0, 1, 0),
            },
        ],
    ),
    (
        "blmpop",
        C_WRITE | C_LIST | C_SLOW | C_BLOCKING,
        &[KeySpec {
            flags: RW | ACCESS | DELETE,
            begin: Begin::Index(2),
            find: Find::Keynum(0, 1, 1),
        }],
    ),
    (
        "blpop",
        C_WRITE | C_LIST | C_SLOW | C_BLOCKING,
        &[KeySpec {
            flags: RW | ACCESS | DELETE,
            begin: Begin::Index(1),
            find: Find::Range(-2, 1, 0),
        }],
    ),
    (
        "brpop",
        C_WRITE | C_LIST | C_SLOW | C_BLOCKING,
        &[KeySpec {
            flags: RW | ACCESS | DELETE,
            begin: Begin::Index(1),
            find: Find::Range(-2, 1, 0),
        }],
    ),
    (
        "brpoplpush",
        C_WRITE | C_LIST | C_SLOW | C_BLOCKING,
        &[
            KeySpec {
                flags: RW | ACCESS | DELETE,
                begin: Begin::Index(1),
                find: Find::Range(0, 1, 0),
            },
            KeySpec {
                flags: RW | INSERT,
                begin: Begin::Index(2),
                find: Find::Range(0, 1, 0),
            },
        ],
    ),
    (
        "bzmpop",
        C_WRITE | C_SORTEDSET | C_SLOW | C_BLOCKING,
        &[KeySpec {
            flags: RW | ACCESS | DELETE,
            begin: Begin::Index(2),
            find: Find::Keynum(0, 1, 1),
        }],
    ),
    (
        "bzpopmax",
        C_WRITE | C_SORTEDSET | C_FAST | C_BLOCKING,
        &[KeySpec {
            flags: RW | ACCESS | DELETE,
            begin: Begin::Index(1),
            find: Find::Range(-2, 1, 0),
        }],
    ),
    (
        "bzpopmin",
        C_WRITE | C_SORTEDSET | C_FAST | C_BLOCKING,
        &[KeySpec {
            flags: RW | ACCESS | DELETE,
            begin: Begin::Index(1),
            find: Find::Range(-2, 1, 0),
        }],
    ),
    ("client", C_SLOW, &[]),
    ("client|caching", C_SLOW | C_CONNECTION, &[]),
    ("client|getname", C_SLOW | C_CONNECTION, &[]),
    ("client|getredir", C_SLOW | C_CONNECTION, &[]),
    ("client|help", C_SLOW | C_CONNECTION, &[]),
    ("client|id", C_SLOW | C_CONNECTION, &[]),
    ("client|info", C_SLOW | C_CONNECTION, &[]),
    (
        "client|kill",
        C_ADMIN | C_SLOW | C_DANGEROUS | C_CONNECTION,
        &[],
    ),
    (
        "client|list",
        C_ADMIN | C_SLOW | C_DANGEROUS | C_CONNECTION,
        &[],
    ),
    (
        "client|no-evict",
        C_ADMIN | C_SLOW | C_DANGEROUS | C_CONNECTION,
        &[],
    ),
    (
        "client|pause",
        C_ADMIN | C_SLOW | C_DANGEROUS | C_CONNECTION,
        &[],
    ),
    ("client|reply", C_SLOW | C_CONNECTION, &[]),
    ("client|setname", C_SLOW | C_CONNECTION, &[]),
    ("client|tracking", C_SLOW | C_CONNECTION, &[]),
    ("client|trackinginfo", C_SLOW | C_CONNECTION, &[]),
    (
        "client|unblock",
        C_ADMIN | C_SLOW | C_DANGEROUS | C_CONNECTION,
        &[],
    ),
    (
        "client|unpause",
        C_ADMIN | C_SLOW | C_DANGEROUS | C_CONNECTION,
        &[],
    ),
    ("cluster", C_SLOW, &[]),
    ("cluster|addslots", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    ("cluster|addslotsrange", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    ("cluster|bumpepoch", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    (
        "cluster|count-failure-reports",
        C_ADMIN | C_SLOW | C_DANGEROUS,
        &[],
    ),
    ("cluster|countkeysinslot", C_SLOW, &[]),
    ("cluster|delslots", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    ("cluster|delslotsrange", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    ("cluster|failover", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    ("cluster|flushslots", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    ("cluster|forget", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    ("cluster|getkeysinslot", C_SLOW, &[]),
    ("cluster|help", C_SLOW, &[]),
    ("cluster|info", C_SLOW, &[]),
    ("cluster|keyslot", C_SLOW, &[]),
    ("cluster|links", C_SLOW, &[]),
    ("cluster|meet", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    ("cluster|myid", C_SLOW, &[]),
    ("cluster|nodes", C_SLOW, &[]),
    ("cluster|replicas", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    ("cluster|replicate", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    ("cluster|reset", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    ("cluster|saveconfig", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    (
        "cluster|set-config-epoch",
        C_ADMIN | C_SLOW | C_DANGEROUS,
        &[],
    ),
    ("cluster|setslot", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    ("cluster|shards", C_SLOW, &[]),
    ("cluster|slaves", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    ("cluster|slots", C_SLOW, &[]),
    ("command", C_SLOW | C_CONNECTION, &[]),
    ("command|count", C_SLOW | C_CONNECTION, &[]),
    ("command|docs", C_SLOW | C_CONNECTION, &[]),
    ("command|getkeys", C_SLOW | C_CONNECTION, &[]),
    ("command|getkeysandflags", C_SLOW | C_CONNECTION, &[]),
    ("command|help", C_SLOW | C_CONNECTION, &[]),
    ("command|info", C_SLOW | C_CONNECTION, &[]),
    ("command|list", C_SLOW | C_CONNECTION, &[]),
    ("config", C_SLOW, &[]),
    ("config|get", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    ("config|help", C_SLOW, &[]),
    ("config|resetstat", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    ("config|rewrite", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    ("config|set", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    (
        "copy",
        C_KEYSPACE | C_WRITE | C_SLOW,
        &[
            KeySpec {
                flags: RO | ACCESS,
                begin: Begin::Index(1),
                find: Find::Range(0, 1, 0),
            },
            KeySpec {
                flags: OW | UPDATE,
                begin: Begin::Index(2),
                find: Find::Range(0, 1, 0),
            },
        ],
    ),
    ("dbsize", C_KEYSPACE | C_READ | C_FAST, &[]),
    ("debug", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    (
        "decr",
        C_WRITE | C_STRING | C_FAST,
        &[KeySpec {
            flags: RW | ACCESS | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "decrby",
        C_WRITE | C_STRING | C_FAST,
        &[KeySpec {
            flags: RW | ACCESS | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "del",
        C_KEYSPACE | C_WRITE | C_SLOW,
        &[KeySpec {
            flags: RM | DELETE,
            begin: Begin::Index(1),
            find: Find::Range(-1, 1, 0),
        }],
    ),
    ("discard", C_FAST | C_TRANSACTION, &[]),
    (
        "dump",
        C_KEYSPACE | C_READ | C_SLOW,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    ("echo", C_FAST | C_CONNECTION, &[]),
    (
        "eval",
        C_SLOW | C_SCRIPTING,
        &[KeySpec {
            flags: RW | ACCESS | UPDATE,
            begin: Begin::Index(2),
            find: Find::Keynum(0, 1, 1),
        }],
    ),
    (
        "eval_ro",
        C_SLOW | C_SCRIPTING,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(2),
            find: Find::Keynum(0, 1, 1),
        }],
    ),
    (
        "evalsha",
        C_SLOW | C_SCRIPTING,
        &[KeySpec {
            flags: RW | ACCESS | UPDATE,
            begin: Begin::Index(2),
            find: Find::Keynum(0, 1, 1),
        }],
    ),
    (
        "evalsha_ro",
        C_SLOW | C_SCRIPTING,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(2),
            find: Find::Keynum(0, 1, 1),
        }],
    ),
    ("exec", C_SLOW | C_TRANSACTION, &[]),
    (
        "exists",
        C_KEYSPACE | C_READ | C_FAST,
        &[KeySpec {
            flags: RO,
            begin: Begin::Index(1),
            find: Find::Range(-1, 1, 0),
        }],
    ),
    (
        "expire",
        C_KEYSPACE | C_WRITE | C_FAST,
        &[KeySpec {
            flags: RW | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "expireat",
        C_KEYSPACE | C_WRITE | C_FAST,
        &[KeySpec {
            flags: RW | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "expiretime",
        C_KEYSPACE | C_READ | C_FAST,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    ("failover", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    (
        "fcall",
        C_SLOW | C_SCRIPTING,
        &[KeySpec {
            flags: RW | ACCESS | UPDATE,
            begin: Begin::Index(2),
            find: Find::Keynum(0, 1, 1),
        }],
    ),
    (
        "fcall_ro",
        C_SLOW | C_SCRIPTING,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(2),
            find: Find::Keynum(0, 1, 1),
        }],
    ),
    ("flushall", C_KEYSPACE | C_WRITE | C_SLOW | C_DANGEROUS, &[]),
    ("flushdb", C_KEYSPACE | C_WRITE | C_SLOW | C_DANGEROUS, &[]),
    ("function", C_SLOW, &[]),
    ("function|delete", C_WRITE | C_SLOW | C_SCRIPTING, &[]),
    ("function|dump", C_SLOW | C_SCRIPTING, &[]),
    ("function|flush", C_WRITE | C_SLOW | C_SCRIPTING, &[]),
    ("function|help", C_SLOW | C_SCRIPTING, &[]),
    ("function|kill", C_SLOW | C_SCRIPTING, &[]),
    ("function|list", C_SLOW | C_SCRIPTING, &[]),
    ("function|load", C_WRITE | C_SLOW | C_SCRIPTING, &[]),
    ("function|restore", C_WRITE | C_SLOW | C_SCRIPTING, &[]),
    ("function|stats", C_SLOW | C_SCRIPTING, &[]),
    (
        "geoadd",
        C_WRITE | C_GEO | C_SLOW,
        &[KeySpec {
            flags: RW | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "geodist",
        C_READ | C_GEO | C_SLOW,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "geohash",
        C_READ | C_GEO | C_SLOW,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "geopos",
        C_READ | C_GEO | C_SLOW,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "georadius",
        C_WRITE | C_GEO | C_SLOW,
        &[
            KeySpec {
                flags: RO | ACCESS,
                begin: Begin::Index(1),
                find: Find::Range(0, 1, 0),
            },
            KeySpec {
                flags: OW | UPDATE,
                begin: Begin::Keyword(b"STORE", 6),
                find: Find::Range(0, 1, 0),
            },
            KeySpec {
                flags: OW | UPDATE,
                begin: Begin::Keyword(b"STOREDIST", 6),
                find: Find::Range(0, 1, 0),
            },
        ],
    ),
    (
        "georadius_ro",
        C_READ | C_GEO | C_SLOW,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "georadiusbymember",
        C_WRITE | C_GEO | C_SLOW,
        &[
            KeySpec {
                flags: RO | ACCESS,
                begin: Begin::Index(1),
                find: Find::Range(0, 1, 0),
            },
            KeySpec {
                flags: OW | UPDATE,
                begin: Begin::Keyword(b"STORE", 5),
                find: Find::Range(0, 1, 0),
            },
            KeySpec {
                flags: OW | UPDATE,
                begin: Begin::Keyword(b"STOREDIST", 5),
                find: Find::Range(0, 1, 0),
            },
        ],
    ),
    (
        "georadiusbymember_ro",
        C_READ | C_GEO | C_SLOW,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "geosearch",
        C_READ | C_GEO | C_SLOW,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "geosearchstore",
        C_WRITE | C_GEO | C_SLOW,
        &[
            KeySpec {
                flags: OW | UPDATE,
                begin: Begin::Index(1),
                find: Find::Range(0, 1, 0),
            },
            KeySpec {
                flags: RO | ACCESS,
                begin: Begin::Index(2),
                find: Find::Range(0, 1, 0),
            },
        ],
    ),
    (
        "get",
        C_READ | C_STRING | C_FAST,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "getbit",
        C_READ | C_BITMAP | C_FAST,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "getdel",
        C_WRITE | C_STRING | C_FAST,
        &[KeySpec {
            flags: RW | ACCESS | DELETE,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "getex",
        C_WRITE | C_STRING | C_FAST,
        &[KeySpec {
            flags: RW | ACCESS | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "getrange",
        C_READ | C_STRING | C_SLOW,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "getset",
        C_WRITE | C_STRING | C_FAST,
        &[KeySpec {
            flags: RW | ACCESS | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "hdel",
        C_WRITE | C_HASH | C_FAST,
        &[KeySpec {
            flags: RW | DELETE,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    ("hello", C_FAST | C_CONNECTION, &[]),
    (
        "hexists",
        C_READ | C_HASH | C_FAST,
        &[KeySpec {
            flags: RO,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "hget",
        C_READ | C_HASH | C_FAST,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "hgetall",
        C_READ | C_HASH | C_SLOW,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "hincrby",
        C_WRITE | C_HASH | C_FAST,
        &[KeySpec {
            flags: RW | ACCESS | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "hincrbyfloat",
        C_WRITE | C_HASH | C_FAST,
        &[KeySpec {
            flags: RW | ACCESS | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "hkeys",
        C_READ | C_HASH | C_SLOW,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "hlen",
        C_READ | C_HASH | C_FAST,
        &[KeySpec {
            flags: RO,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "hmget",
        C_READ | C_HASH | C_FAST,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "hmset",
        C_WRITE | C_HASH | C_FAST,
        &[KeySpec {
            flags: RW | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "hrandfield",
        C_READ | C_HASH | C_SLOW,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "hscan",
        C_READ | C_HASH | C_SLOW,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "hset",
        C_WRITE | C_HASH | C_FAST,
        &[KeySpec {
            flags: RW | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "hsetnx",
        C_WRITE | C_HASH | C_FAST,
        &[KeySpec {
            flags: RW | INSERT,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "hstrlen",
        C_READ | C_HASH | C_FAST,
        &[KeySpec {
            flags: RO,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "hvals",
        C_READ | C_HASH | C_SLOW,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "incr",
        C_WRITE | C_STRING | C_FAST,
        &[KeySpec {
            flags: RW | ACCESS | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "incrby",
        C_WRITE | C_STRING | C_FAST,
        &[KeySpec {
            flags: RW | ACCESS | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "incrbyfloat",
        C_WRITE | C_STRING | C_FAST,
        &[KeySpec {
            flags: RW | ACCESS | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    ("info", C_SLOW | C_DANGEROUS, &[]),
    ("keys", C_KEYSPACE | C_READ | C_SLOW | C_DANGEROUS, &[]),
    ("lastsave", C_ADMIN | C_FAST | C_DANGEROUS, &[]),
    ("latency", C_SLOW, &[]),
    ("latency|doctor", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    ("latency|graph", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    ("latency|help", C_SLOW, &[]),
    ("latency|histogram", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    ("latency|history", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    ("latency|latest", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    ("latency|reset", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    (
        "lcs",
        C_READ | C_STRING | C_SLOW,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(1, 1, 0),
        }],
    ),
    (
        "lindex",
        C_READ | C_LIST | C_SLOW,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "linsert",
        C_WRITE | C_LIST | C_SLOW,
        &[KeySpec {
            flags: RW | INSERT,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "llen",
        C_READ | C_LIST | C_FAST,
        &[KeySpec {
            flags: RO,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "lmove",
        C_WRITE | C_LIST | C_SLOW,
        &[
            KeySpec {
                flags: RW | ACCESS | DELETE,
                begin: Begin::Index(1),
                find: Find::Range(0, 1, 0),
            },
            KeySpec {
                flags: RW | INSERT,
                begin: Begin::Index(2),
                find: Find::Range(0, 1, 0),
            },
        ],
    ),
    (
        "lmpop",
        C_WRITE | C_LIST | C_SLOW,
        &[KeySpec {
            flags: RW | ACCESS | DELETE,
            begin: Begin::Index(1),
            find: Find::Keynum(0, 1, 1),
        }],
    ),
    ("lolwut", C_READ | C_FAST, &[]),
    (
        "lpop",
        C_WRITE | C_LIST | C_FAST,
        &[KeySpec {
            flags: RW | ACCESS | DELETE,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "lpos",
        C_READ | C_LIST | C_SLOW,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "lpush",
        C_WRITE | C_LIST | C_FAST,
        &[KeySpec {
            flags: RW | INSERT,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "lpushx",
        C_WRITE | C_LIST | C_FAST,
        &[KeySpec {
            flags: RW | INSERT,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "lrange",
        C_READ | C_LIST | C_SLOW,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "lrem",
        C_WRITE | C_LIST | C_SLOW,
        &[KeySpec {
            flags: RW | DELETE,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "lset",
        C_WRITE | C_LIST | C_SLOW,
        &[KeySpec {
            flags: RW | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "ltrim",
        C_WRITE | C_LIST | C_SLOW,
        &[KeySpec {
            flags: RW | DELETE,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    ("memory", C_SLOW, &[]),
    ("memory|doctor", C_SLOW, &[]),
    ("memory|help", C_SLOW, &[]),
    ("memory|malloc-stats", C_SLOW, &[]),
    ("memory|purge", C_SLOW, &[]),
    ("memory|stats", C_SLOW, &[]),
    (
        "memory|usage",
        C_READ | C_SLOW,
        &[KeySpec {
            flags: RO,
            begin: Begin::Index(2),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "mget",
        C_READ | C_STRING | C_FAST,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(-1, 1, 0),
        }],
    ),
    (
        "migrate",
        C_KEYSPACE | C_WRITE | C_SLOW | C_DANGEROUS,
        &[
            KeySpec {
                flags: RW | ACCESS | DELETE,
                begin: Begin::Index(3),
                find: Find::Range(0, 1, 0),
            },
            KeySpec {
                flags: RW | ACCESS | DELETE | INCOMPLETE,
                begin: Begin::Keyword(b"KEYS", -2),
                find: Find::Range(-1, 1, 0),
            },
        ],
    ),
    ("module", C_SLOW, &[]),
    ("module|help", C_SLOW, &[]),
    ("module|list", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    ("module|load", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    ("module|loadex", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    ("module|unload", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    ("monitor", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    (
        "move",
        C_KEYSPACE | C_WRITE | C_FAST,
        &[KeySpec {
            flags: RW | ACCESS | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "mset",
        C_WRITE | C_STRING | C_SLOW,
        &[KeySpec {
            flags: OW | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range(-1, 2, 0),
        }],
    ),
    (
        "msetnx",
        C_WRITE | C_STRING | C_SLOW,
        &[KeySpec {
            flags: OW | INSERT,
            begin: Begin::Index(1),
            find: Find::Range(-1, 2, 0),
        }],
    ),
    ("multi", C_FAST | C_TRANSACTION, &[]),
    ("object", C_SLOW, &[]),
    (
        "object|encoding",
        C_KEYSPACE | C_READ | C_SLOW,
        &[KeySpec {
            flags: RO,
            begin: Begin::Index(2),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "object|freq",
        C_KEYSPACE | C_READ | C_SLOW,
        &[KeySpec {
            flags: RO,
            begin: Begin::Index(2),
            find: Find::Range(0, 1, 0),
        }],
    ),
    ("object|help", C_KEYSPACE | C_SLOW, &[]),
    (
        "object|idletime",
        C_KEYSPACE | C_READ | C_SLOW,
        &[KeySpec {
            flags: RO,
            begin: Begin::Index(2),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "object|refcount",
        C_KEYSPACE | C_READ | C_SLOW,
        &[KeySpec {
            flags: RO,
            begin: Begin::Index(2),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "persist",
        C_KEYSPACE | C_WRITE | C_FAST,
        &[KeySpec {
            flags: RW | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "pexpire",
        C_KEYSPACE | C_WRITE | C_FAST,
        &[KeySpec {
            flags: RW | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "pexpireat",
        C_KEYSPACE | C_WRITE | C_FAST,
        &[KeySpec {
            flags: RW | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "pexpiretime",
        C_KEYSPACE | C_READ | C_FAST,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "pfadd",
        C_WRITE | C_HYPERLOGLOG | C_FAST,
        &[KeySpec {
            flags: RW | INSERT,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "pfcount",
        C_READ | C_HYPERLOGLOG | C_SLOW,
        &[KeySpec {
            flags: RW | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(-1, 1, 0),
        }],
    ),
    (
        "pfdebug",
        C_WRITE | C_HYPERLOGLOG | C_ADMIN | C_SLOW | C_DANGEROUS,
        &[KeySpec {
            flags: RW | ACCESS,
            begin: Begin::Index(2),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "pfmerge",
        C_WRITE | C_HYPERLOGLOG | C_SLOW,
        &[
            KeySpec {
                flags: RW | ACCESS | INSERT,
                begin: Begin::Index(1),
                find: Find::Range(0, 1, 0),
            },
            KeySpec {
                flags: RO | ACCESS,
                begin: Begin::Index(2),
                find: Find::Range(-1, 1, 0),
            },
        ],
    ),
    (
        "pfselftest",
        C_HYPERLOGLOG | C_ADMIN | C_SLOW | C_DANGEROUS,
        &[],
    ),
    ("ping", C_FAST | C_CONNECTION, &[]),
    (
        "psetex",
        C_WRITE | C_STRING | C_SLOW,
        &[KeySpec {
            flags: OW | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    ("psubscribe", C_PUBSUB | C_SLOW, &[]),
    ("psync", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    (
        "pttl",
        C_KEYSPACE | C_READ | C_FAST,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    ("publish", C_PUBSUB | C_FAST, &[]),
    ("pubsub", C_SLOW, &[]),
    ("pubsub|channels", C_PUBSUB | C_SLOW, &[]),
    ("pubsub|help", C_SLOW, &[]),
    ("pubsub|numpat", C_PUBSUB | C_SLOW, &[]),
    ("pubsub|numsub", C_PUBSUB | C_SLOW, &[]),
    ("pubsub|shardchannels", C_PUBSUB | C_SLOW, &[]),
    ("pubsub|shardnumsub", C_PUBSUB | C_SLOW, &[]),
    ("punsubscribe", C_PUBSUB | C_SLOW, &[]),
    ("quit", C_FAST | C_CONNECTION, &[]),
    ("randomkey", C_KEYSPACE | C_READ | C_SLOW, &[]),
    ("readonly", C_FAST | C_CONNECTION, &[]),
    ("readwrite", C_FAST | C_CONNECTION, &[]),
    (
        "rename",
        C_KEYSPACE | C_WRITE | C_SLOW,
        &[
            KeySpec {
                flags: RW | ACCESS | DELETE,
                begin: Begin::Index(1),
                find: Find::Range(0, 1, 0),
            },
            KeySpec {
                flags: OW | UPDATE,
                begin: Begin::Index(2),
                find: Find::Range(0, 1, 0),
            },
        ],
    ),
    (
        "renamenx",
        C_KEYSPACE | C_WRITE | C_FAST,
        &[
            KeySpec {
                flags: RW | ACCESS | DELETE,
                begin: Begin::Index(1),
                find: Find::Range(0, 1, 0),
            },
            KeySpec {
                flags: OW | INSERT,
                begin: Begin::Index(2),
                find: Find::Range(0, 1, 0),
            },
        ],
    ),
    ("replconf", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    ("replicaof", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    ("reset", C_FAST | C_CONNECTION, &[]),
    (
        "restore",
        C_KEYSPACE | C_WRITE | C_SLOW | C_DANGEROUS,
        &[KeySpec {
            flags: OW | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "restore-asking",
        C_KEYSPACE | C_WRITE | C_SLOW | C_DANGEROUS,
        &[KeySpec {
            flags: OW | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    ("role", C_ADMIN | C_FAST | C_DANGEROUS, &[]),
    (
        "rpop",
        C_WRITE | C_LIST | C_FAST,
        &[KeySpec {
            flags: RW | ACCESS | DELETE,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "rpoplpush",
        C_WRITE | C_LIST | C_SLOW,
        &[
            KeySpec {
                flags: RW | ACCESS | DELETE,
                begin: Begin::Index(1),
                find: Find::Range(0, 1, 0),
            },
            KeySpec {
                flags: RW | INSERT,
                begin: Begin::Index(2),
                find: Find::Range(0, 1, 0),
            },
        ],
    ),
    (
        "rpush",
        C_WRITE | C_LIST | C_FAST,
        &[KeySpec {
            flags: RW | INSERT,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "rpushx",
        C_WRITE | C_LIST | C_FAST,
        &[KeySpec {
            flags: RW | INSERT,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "sadd",
        C_WRITE | C_SET | C_FAST,
        &[KeySpec {
            flags: RW | INSERT,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    ("save", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    ("scan", C_KEYSPACE | C_READ | C_SLOW, &[]),
    (
        "scard",
        C_READ | C_SET | C_FAST,
        &[KeySpec {
            flags: RO,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    ("script", C_SLOW, &[]),
    ("script|debug", C_SLOW | C_SCRIPTING, &[]),
    ("script|exists", C_SLOW | C_SCRIPTING, &[]),
    ("script|flush", C_SLOW | C_SCRIPTING, &[]),
    ("script|help", C_SLOW | C_SCRIPTING, &[]),
    ("script|kill", C_SLOW | C_SCRIPTING, &[]),
    ("script|load", C_SLOW | C_SCRIPTING, &[]),
    (
        "sdiff",
        C_READ | C_SET | C_SLOW,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(-1, 1, 0),
        }],
    ),
    (
        "sdiffstore",
        C_WRITE | C_SET | C_SLOW,
        &[
            KeySpec {
                flags: OW | UPDATE,
                begin: Begin::Index(1),
                find: Find::Range(0, 1, 0),
            },
            KeySpec {
                flags: RO | ACCESS,
                begin: Begin::Index(2),
                find: Find::Range(-1, 1, 0),
            },
        ],
    ),
    ("select", C_FAST | C_CONNECTION, &[]),
    (
        "set",
        C_WRITE | C_STRING | C_SLOW,
        &[KeySpec {
            flags: RW | ACCESS | UPDATE | VARIABLE_FLAGS,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "setbit",
        C_WRITE | C_BITMAP | C_SLOW,
        &[KeySpec {
            flags: RW | ACCESS | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "setex",
        C_WRITE | C_STRING | C_SLOW,
        &[KeySpec {
            flags: OW | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "setnx",
        C_WRITE | C_STRING | C_FAST,
        &[KeySpec {
            flags: OW | INSERT,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "setrange",
        C_WRITE | C_STRING | C_SLOW,
        &[KeySpec {
            flags: RW | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    ("shutdown", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    (
        "sinter",
        C_READ | C_SET | C_SLOW,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(-1, 1, 0),
        }],
    ),
    (
        "sintercard",
        C_READ | C_SET | C_SLOW,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Keynum(0, 1, 1),
        }],
    ),
    (
        "sinterstore",
        C_WRITE | C_SET | C_SLOW,
        &[
            KeySpec {
                flags: RW | UPDATE,
                begin: Begin::Index(1),
                find: Find::Range(0, 1, 0),
            },
            KeySpec {
                flags: RO | ACCESS,
                begin: Begin::Index(2),
                find: Find::Range(-1, 1, 0),
            },
        ],
    ),
    (
        "sismember",
        C_READ | C_SET | C_FAST,
        &[KeySpec {
            flags: RO,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    ("slaveof", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    ("slowlog", C_SLOW, &[]),
    ("slowlog|get", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    ("slowlog|help", C_SLOW, &[]),
    ("slowlog|len", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    ("slowlog|reset", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    (
        "smembers",
        C_READ | C_SET | C_SLOW,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "smismember",
        C_READ | C_SET | C_FAST,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "smove",
        C_WRITE | C_SET | C_FAST,
        &[
            KeySpec {
                flags: RW | ACCESS | DELETE,
                begin: Begin::Index(1),
                find: Find::Range(0, 1, 0),
            },
            KeySpec {
                flags: RW | INSERT,
                begin: Begin::Index(2),
                find: Find::Range(0, 1, 0),
            },
        ],
    ),
    (
        "sort",
        C_WRITE | C_SET | C_SORTEDSET | C_LIST | C_SLOW | C_DANGEROUS,
        &[
            KeySpec {
                flags: RO | ACCESS,
                begin: Begin::Index(1),
                find: Find::Range(0, 1, 0),
            },
            KeySpec {
                flags: RO | ACCESS,
                begin: Begin::Unknown,
                find: Find::Unknown,
            },
            KeySpec {
                flags: OW | UPDATE,
                begin: Begin::Unknown,
                find: Find::Unknown,
            },
        ],
    ),
    (
        "sort_ro",
        C_READ | C_SET | C_SORTEDSET | C_LIST | C_SLOW | C_DANGEROUS,
        &[
            KeySpec {
                flags: RO | ACCESS,
                begin: Begin::Index(1),
                find: Find::Range(0, 1, 0),
            },
            KeySpec {
                flags: RO | ACCESS,
                begin: Begin::Unknown,
                find: Find::Unknown,
            },
        ],
    ),
    (
        "spop",
        C_WRITE | C_SET | C_FAST,
        &[KeySpec {
            flags: RW | ACCESS | DELETE,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "spublish",
        C_PUBSUB | C_FAST,
        &[KeySpec {
            flags: NOT_KEY,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "srandmember",
        C_READ | C_SET | C_SLOW,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "srem",
        C_WRITE | C_SET | C_FAST,
        &[KeySpec {
            flags: RW | DELETE,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "sscan",
        C_READ | C_SET | C_SLOW,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "ssubscribe",
        C_PUBSUB | C_SLOW,
        &[KeySpec {
            flags: NOT_KEY,
            begin: Begin::Index(1),
            find: Find::Range(-1, 1, 0),
        }],
    ),
    (
        "strlen",
        C_READ | C_STRING | C_FAST,
        &[KeySpec {
            flags: RO,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    ("subscribe", C_PUBSUB | C_SLOW, &[]),
    (
        "substr",
        C_READ | C_STRING | C_SLOW,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "sunion",
        C_READ | C_SET | C_SLOW,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(-1, 1, 0),
        }],
    ),
    (
        "sunionstore",
        C_WRITE | C_SET | C_SLOW,
        &[
            KeySpec {
                flags: OW | UPDATE,
                begin: Begin::Index(1),
                find: Find::Range(0, 1, 0),
            },
            KeySpec {
                flags: RO | ACCESS,
                begin: Begin::Index(2),
                find: Find::Range(-1, 1, 0),
            },
        ],
    ),
    (
        "sunsubscribe",
        C_PUBSUB | C_SLOW,
        &[KeySpec {
            flags: NOT_KEY,
            begin: Begin::Index(1),
            find: Find::Range(-1, 1, 0),
        }],
    ),
    ("swapdb", C_KEYSPACE | C_WRITE | C_FAST | C_DANGEROUS, &[]),
    ("sync", C_ADMIN | C_SLOW | C_DANGEROUS, &[]),
    ("time", C_FAST, &[]),
    (
        "touch",
        C_KEYSPACE | C_READ | C_FAST,
        &[KeySpec {
            flags: RO,
            begin: Begin::Index(1),
            find: Find::Range(-1, 1, 0),
        }],
    ),
    (
        "ttl",
        C_KEYSPACE | C_READ | C_FAST,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "type",
        C_KEYSPACE | C_READ | C_FAST,
        &[KeySpec {
            flags: RO,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "unlink",
        C_KEYSPACE | C_WRITE | C_FAST,
        &[KeySpec {
            flags: RM | DELETE,
            begin: Begin::Index(1),
            find: Find::Range(-1, 1, 0),
        }],
    ),
    ("unsubscribe", C_PUBSUB | C_SLOW, &[]),
    ("unwatch", C_FAST | C_TRANSACTION, &[]),
    ("wait", C_SLOW | C_CONNECTION, &[]),
    (
        "watch",
        C_FAST | C_TRANSACTION,
        &[KeySpec {
            flags: RO,
            begin: Begin::Index(1),
            find: Find::Range(-1, 1, 0),
        }],
    ),
    (
        "xack",
        C_WRITE | C_STREAM | C_FAST,
        &[KeySpec {
            flags: RW | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "xadd",
        C_WRITE | C_STREAM | C_FAST,
        &[KeySpec {
            flags: RW | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "xautoclaim",
        C_WRITE | C_STREAM | C_FAST,
        &[KeySpec {
            flags: RW | DELETE,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "xclaim",
        C_WRITE | C_STREAM | C_FAST,
        &[KeySpec {
            flags: RW | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "xdel",
        C_WRITE | C_STREAM | C_FAST,
        &[KeySpec {
            flags: RW | DELETE,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    ("xgroup", C_SLOW, &[]),
    (
        "xgroup|create",
        C_WRITE | C_STREAM | C_SLOW,
        &[KeySpec {
            flags: RW | INSERT,
            begin: Begin::Index(2),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "xgroup|createconsumer",
        C_WRITE | C_STREAM | C_SLOW,
        &[KeySpec {
            flags: RW | INSERT,
            begin: Begin::Index(2),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "xgroup|delconsumer",
        C_WRITE | C_STREAM | C_SLOW,
        &[KeySpec {
            flags: RW | DELETE,
            begin: Begin::Index(2),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "xgroup|destroy",
        C_WRITE | C_STREAM | C_SLOW,
        &[KeySpec {
            flags: RW | DELETE,
            begin: Begin::Index(2),
            find: Find::Range(0, 1, 0),
        }],
    ),
    ("xgroup|help", C_STREAM | C_SLOW, &[]),
    (
        "xgroup|setid",
        C_WRITE | C_STREAM | C_SLOW,
        &[KeySpec {
            flags: RW | UPDATE,
            begin: Begin::Index(2),
            find: Find::Range(0, 1, 0),
        }],
    ),
    ("xinfo", C_SLOW, &[]),
    (
        "xinfo|consumers",
        C_READ | C_STREAM | C_SLOW,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(2),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "xinfo|groups",
        C_READ | C_STREAM | C_SLOW,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(2),
            find: Find::Range(0, 1, 0),
        }],
    ),
    ("xinfo|help", C_STREAM | C_SLOW, &[]),
    (
        "xinfo|stream",
        C_READ | C_STREAM | C_SLOW,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(2),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "xlen",
        C_READ | C_STREAM | C_FAST,
        &[KeySpec {
            flags: RO,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "xpending",
        C_READ | C_STREAM | C_SLOW,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "xrange",
        C_READ | C_STREAM | C_SLOW,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "xread",
        C_READ | C_STREAM | C_SLOW | C_BLOCKING,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Keyword(b"STREAMS", 1),
            find: Find::Range(-1, 1, 2),
        }],
    ),
    (
        "xreadgroup",
        C_WRITE | C_STREAM | C_SLOW | C_BLOCKING,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Keyword(b"STREAMS", 4),
            find: Find::Range(-1, 1, 2),
        }],
    ),
    (
        "xrevrange",
        C_READ | C_STREAM | C_SLOW,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "xsetid",
        C_WRITE | C_STREAM | C_FAST,
        &[KeySpec {
            flags: RW | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "xtrim",
        C_WRITE | C_STREAM | C_SLOW,
        &[KeySpec {
            flags: RW | DELETE,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "zadd",
        C_WRITE | C_SORTEDSET | C_FAST,
        &[KeySpec {
            flags: RW | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "zcard",
        C_READ | C_SORTEDSET | C_FAST,
        &[KeySpec {
            flags: RO,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "zcount",
        C_READ | C_SORTEDSET | C_FAST,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "zdiff",
        C_READ | C_SORTEDSET | C_SLOW,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Keynum(0, 1, 1),
        }],
    ),
    (
        "zdiffstore",
        C_WRITE | C_SORTEDSET | C_SLOW,
        &[
            KeySpec {
                flags: OW | UPDATE,
                begin: Begin::Index(1),
                find: Find::Range(0, 1, 0),
            },
            KeySpec {
                flags: RO | ACCESS,
                begin: Begin::Index(2),
                find: Find::Keynum(0, 1, 1),
            },
        ],
    ),
    (
        "zincrby",
        C_WRITE | C_SORTEDSET | C_FAST,
        &[KeySpec {
            flags: RW | ACCESS | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "zinter",
        C_READ | C_SORTEDSET | C_SLOW,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Keynum(0, 1, 1),
        }],
    ),
    (
        "zintercard",
        C_READ | C_SORTEDSET | C_SLOW,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Keynum(0, 1, 1),
        }],
    ),
    (
        "zinterstore",
        C_WRITE | C_SORTEDSET | C_SLOW,
        &[
            KeySpec {
                flags: OW | UPDATE,
                begin: Begin::Index(1),
                find: Find::Range(0, 1, 0),
            },
            KeySpec {
                flags: RO | ACCESS,
                begin: Begin::Index(2),
                find: Find::Keynum(0, 1, 1),
            },
        ],
    ),
    (
        "zlexcount",
        C_READ | C_SORTEDSET | C_FAST,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "zmpop",
        C_WRITE | C_SORTEDSET | C_SLOW,
        &[KeySpec {
            flags: RW | ACCESS | DELETE,
            begin: Begin::Index(1),
            find: Find::Keynum(0, 1, 1),
        }],
    ),
    (
        "zmscore",
        C_READ | C_SORTEDSET | C_FAST,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "zpopmax",
        C_WRITE | C_SORTEDSET | C_FAST,
        &[KeySpec {
            flags: RW | ACCESS | DELETE,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "zpopmin",
        C_WRITE | C_SORTEDSET | C_FAST,
        &[KeySpec {
            flags: RW | ACCESS | DELETE,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "zrandmember",
        C_READ | C_SORTEDSET | C_SLOW,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "zrange",
        C_READ | C_SORTEDSET | C_SLOW,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "zrangebylex",
        C_READ | C_SORTEDSET | C_SLOW,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "zrangebyscore",
        C_READ | C_SORTEDSET | C_SLOW,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "zrangestore",
        C_WRITE | C_SORTEDSET | C_SLOW,
        &[
            KeySpec {
                flags: OW | UPDATE,
                begin: Begin::Index(1),
                find: Find::Range(0, 1, 0),
            },
            KeySpec {
                flags: RO | ACCESS,
                begin: Begin::Index(2),
                find: Find::Range(0, 1, 0),
            },
        ],
    ),
    (
        "zrank",
        C_READ | C_SORTEDSET | C_FAST,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "zrem",
        C_WRITE | C_SORTEDSET | C_FAST,
        &[KeySpec {
            flags: RW | DELETE,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "zremrangebylex",
        C_WRITE | C_SORTEDSET | C_SLOW,
        &[KeySpec {
            flags: RW | DELETE,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "zremrangebyrank",
        C_WRITE | C_SORTEDSET | C_SLOW,
        &[KeySpec {
            flags: RW | DELETE,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "zremrangebyscore",
        C_WRITE | C_SORTEDSET | C_SLOW,
        &[KeySpec {
            flags: RW | DELETE,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "zrevrange",
        C_READ | C_SORTEDSET | C_SLOW,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "zrevrangebylex",
        C_READ | C_SORTEDSET | C_SLOW,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "zrevrangebyscore",
        C_READ | C_SORTEDSET | C_SLOW,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "zrevrank",
        C_READ | C_SORTEDSET | C_FAST,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "zscan",
        C_READ | C_SORTEDSET | C_SLOW,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "zscore",
        C_READ | C_SORTEDSET | C_FAST,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range(0, 1, 0),
        }],
    ),
    (
        "zunion",
        C_READ | C_SORTEDSET | C_SLOW,
        &[KeySpec {
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Keynum(0, 1, 1),
        }],
    ),
    (
        "zunionstore",
        C_WRITE | C_SORTEDSET | C_SLOW,
        &[
            KeySpec {
                flags: OW | UPDATE,
                begin: Begin::Index(1),
                find: Find::Range(0, 1, 0),
            },
            KeySpec {
                flags: RO | ACCESS,
                begin: Begin::Index(2),
                find: Find::Keynum(0, 1, 1),
            },
        ],
    ),
];
