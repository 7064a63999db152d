//! LCS: the longest common subsequence of two string values, as Redis 7.0's
//! lcsCommand computes and reports it (the string, its length, or the
//! matching ranges).

use crate::server::client::Client;
use crate::server::resp::errors;
use crate::server::state::Server;
use crate::server::types::Value;
use crate::server::util::parse_i64;

/// The value of `key` as LCS reads it: a missing key is the empty string;
/// Err for a value that is not a string.
fn value(srv: &mut Server, c: &Client, key: &[u8]) -> Result<Vec<u8>, ()> {
    match srv.lookup_read(c, key) {
        None => Ok(Vec::new()),
        Some(e) => match &e.value {
            Value::Str(s) => Ok(s.clone()),
            _ => Err(()),
        },
    }
}

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]: replies with
/// the longest common subsequence of the two values; with LEN its length;
/// with IDX a map of `matches` (ranges in both strings, from the end, each
/// at least MINMATCHLEN long, with its length under WITHMATCHLEN) and `len`.
/// Errors as Redis 7.0: values that are not strings, a syntax error, a bad
/// MINMATCHLEN, LEN with IDX, a table larger than proto-max-bulk-len.
pub fn lcs(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let (Ok(a), Ok(b)) = (value(srv, c, &argv[1]), value(srv, c, &argv[2])) else {
        c.reply
            .error("ERR The specified keys must contain string values");
        return;
    };
    let (mut getidx, mut getlen, mut withmatchlen, mut minmatchlen) = (false, false, false, 0i64);
    let mut j = 3;
    while j < argv.len() {
        let opt = argv[j].to_ascii_lowercase();
        let more = argv.len() - 1 - j;
        match opt.as_slice() {
            b"idx" => getidx = true,
            b"len" => getlen = true,
            b"withmatchlen" => withmatchlen = true,
            b"minmatchlen" if more > 0 => {
                let Some(n) = parse_i64(&argv[j + 1]) else {
                    c.reply.error(errors::NOT_INTEGER);
                    return;
                };
                minmatchlen = n.max(0);
                j += 1;
            }
            _ => {
                c.reply.error(errors::SYNTAX);
                return;
            }
        }
        j += 1;
    }
    if getidx && getlen {
        c.reply
            .error("ERR If you want both the length and indexes, please just use IDX.");
        return;
    }
    let (alen, blen) = (a.len(), b.len());
    let cells = (alen as u128 + 1) * (blen as u128 + 1);
    if cells * 4 > srv.config.proto_max_bulk_len.max(0) as u128 {
        c.reply
            .error("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
        return;
    }
    // dp[i][j]: the LCS length of a[..i] and b[..j].
    let w = blen + 1;
    let mut dp = vec![0u32; (alen + 1) * w];
    for i in 1..=alen {
        for jj in 1..=blen {
            dp[i * w + jj] = if a[i - 1] == b[jj - 1] {
                dp[(i - 1) * w + jj - 1] + 1
            } else {
                dp[(i - 1) * w + jj].max(dp[i * w + jj - 1])
            };
        }
    }
    let total = dp[alen * w + blen];
    if getlen {
        c.reply.int(total as i64);
        return;
    }
    // Walk back from the end: the subsequence, and the ranges of matches.
    let mut result = vec![0u8; total as usize];
    let mut idx = total as usize;
    let mut matches: Vec<[usize; 5]> = Vec::new();
    let (mut i, mut jj) = (alen, blen);
    let unset = alen;
    let (mut a_start, mut a_end, mut b_start, mut b_end) = (unset, 0, 0, 0);
    while i > 0 && jj > 0 {
        let mut emit = false;
        if a[i - 1] == b[jj - 1] {
            result[idx - 1] = a[i - 1];
            if a_start == unset {
                (a_start, a_end, b_start, b_end) = (i - 1, i - 1, jj - 1, jj - 1);
            } else if a_start == i && b_start == jj {
                a_start -= 1;
                b_start -= 1;
            } else {
                emit = true;
            }
            if a_start == 0 || b_start == 0 {
                emit = true;
            }
            idx -= 1;
            i -= 1;
            jj -= 1;
        } else {
            if dp[(i - 1) * w + jj] > dp[i * w + jj - 1] {
                i -= 1;
            } else {
                jj -= 1;
            }
            if a_start != unset {
                emit = true;
            }
        }
        if emit {
            let len = a_end - a_start + 1;
            if minmatchlen == 0 || len as i64 >= minmatchlen {
                matches.push([a_start, a_end, b_start, b_end, len]);
            }
            a_start = unset;
        }
    }
    if !getidx {
        c.reply.bulk(&result);
        return;
    }
    c.reply.map(2);
    c.reply.bulk(b"matches");
    c.reply.array(matches.len());
    for m in &matches {
        c.reply.array(2 + usize::from(withmatchlen));
        c.reply.array(2);
        c.reply.int(m[0] as i64);
        c.reply.int(m[1] as i64);
        c.reply.array(2);
        c.reply.int(m[2] as i64);
        c.reply.int(m[3] as i64);
        if withmatchlen {
            c.reply.int(m[4] as i64);
        }
    }
    c.reply.bulk(b"len");
    c.reply.int(total as i64);
}
