//! ZUNION, ZINTER, ZDIFF (and their STORE forms) and ZINTERCARD over sorted
//! sets and plain sets, with WEIGHTS and AGGREGATE.
use super::*;

// ---------------------------------------------------------------------------
// Union, intersection, difference

#[derive(Clone, Copy, PartialEq)]
pub(super) enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy)]
pub(super) enum Aggregate {
    Sum,
    Min,
    Max,
}

/// Folds `v` into `target` according to AGGREGATE. A SUM that gives NaN
/// (inf + -inf) stores 0 instead, as Redis does.
pub(super) fn aggregate(agg: Aggregate, target: &mut f64, v: f64) {
    match agg {
        Aggregate::Sum => {
            *target += v;
            // inf + -inf: Redis stores 0 rather than NaN.
            if target.is_nan() {
                *target = 0.0;
            }
        }
        Aggregate::Min => {
            if v < *target {
                *target = v
            }
        }
        Aggregate::Max => {
            if v > *target {
                *target = v
            }
        }
    }
}

/// An input of ZUNION & co.: a sorted set, or a set whose members score 1.
pub(super) enum Input<'a> {
    Missing,
    Z(&'a ZSet),
    S(&'a Set),
}

impl Input<'_> {
    fn len(&self) -> usize {
        match self {
            Input::Missing => 0,
            Input::Z(z) => z.len(),
            Input::S(s) => s.len(),
        }
    }
    fn score(&self, m: &[u8]) -> Option<f64> {
        match self {
            Input::Missing => None,
            Input::Z(z) => z.score(m),
            Input::S(s) => s.contains(m).then_some(1.0),
        }
    }
    fn for_each(&self, mut f: impl FnMut(&[u8], f64)) {
        match self {
            Input::Missing => {}
            Input::Z(z) => z.for_each(f),
            Input::S(s) => s.for_each(|m| f(m, 1.0)),
        }
    }
}

/// Parses and computes ZUNION/ZINTER/ZDIFF[STORE]. `first` is the index of numkeys.
/// Returns the result (sorted) and WITHSCORES, or None after replying an error.
pub(super) fn setop(
    srv: &mut Server,
    c: &mut Client,
    argv: &[Vec<u8>],
    first: usize,
    op: SetOp,
    storing: bool,
) -> Option<(Scored, bool)> {
    let name = String::from_utf8_lossy(&argv[0]).to_ascii_lowercase();
    let numkeys = match parse_i64(&argv[first]) {
        Some(n) => n,
        None => {
            c.reply.error(NOT_INT);
            return None;
        }
    };
    if numkeys < 1 {
        c.reply.error(&format!(
            "ERR at least 1 input key is needed for '{}' command",
            name
        ));
        return None;
    }
    let numkeys = numkeys as usize;
    if numkeys > argv.len() - first - 1 {
        c.reply.error(errors::SYNTAX);
        return None;
    }
    let keys = &argv[first + 1..first + 1 + numkeys];
    let mut weights = vec![1.0f64; numkeys];
    let mut agg = Aggregate::Sum;
    let mut withscores = false;
    let mut j = first + 1 + numkeys;
    while j < argv.len() {
        let a = argv[j].to_ascii_lowercase();
        let left = argv.len() - j - 1;
        if op != SetOp::Diff && a == b"weights" && left >= numkeys {
            for (w, arg) in weights.iter_mut().zip(&argv[j + 1..j + 1 + numkeys]) {
                match parse_f64(arg) {
                    Some(v) => *w = v,
                    None => {
                        c.reply.error("ERR weight value is not a float");
                        return None;
                    }
                }
            }
            j += numkeys + 1;
        } else if op != SetOp::Diff && a == b"aggregate" && left >= 1 {
            agg = match argv[j + 1].to_ascii_lowercase().as_slice() {
                b"sum" => Aggregate::Sum,
                b"min" => Aggregate::Min,
                b"max" => Aggregate::Max,
                _ => {
                    c.reply.error(errors::SYNTAX);
                    return None;
                }
            };
            j += 2;
        } else if !storing && a == b"withscores" {
            withscores = true;
            j += 1;
        } else {
            c.reply.error(errors::SYNTAX);
            return None;
        }
    }
    // Type checks first (lazy expiry included), then borrow the inputs.
    for k in keys {
        let ok = srv
            .lookup_read(c, k)
            .map(|e| matches!(e.value, Value::ZSet(_) | Value::Set(_)));
        if ok == Some(false) {
            c.reply.error(WRONGTYPE);
            return None;
        }
    }
    let db = c.db;
    let inputs: Vec<Input> = keys
        .iter()
        .map(|k| match srv.dbs[db].get(k).map(|e| &e.value) {
            Some(Value::ZSet(z)) => Input::Z(z),
            Some(Value::Set(s)) => Input::S(s),
            _ => Input::Missing,
        })
        .collect();
    let weighted = |s: f64, w: f64| {
        let v = s * w;
        if v.is_nan() {
            0.0
        } else {
            v
        }
    };
    let mut acc: crate::server::dict::Dict<f64> = crate::server::dict::Dict::new();
    match op {
        SetOp::Union => {
            for (inp, w) in inputs.iter().zip(&weights) {
                inp.for_each(|m, s| {
                    let v = weighted(s, *w);
                    let (t, new) = acc.get_or_insert_with(m, || v);
                    if !new {
                        aggregate(agg, t, v);
                    }
                });
            }
        }
        SetOp::Inter => {
            if inputs.iter().all(|i| !matches!(i, Input::Missing)) {
                let mut order: Vec<usize> = (0..inputs.len()).collect();
                order.sort_by_key(|&i| inputs[i].len());
                inputs[order[0]].for_each(|m, s| {
                    let mut score = weighted(s, weights[order[0]]);
                    for &i in &order[1..] {
                        match inputs[i].score(m) {
                            Some(o) => aggregate(agg, &mut score, weighted(o, weights[i])),
                            None => return,
                        }
                    }
                    acc.insert(m.into(), score);
                });
            }
        }
        SetOp::Diff => {
            inputs[0].for_each(|m, s| {
                if !inputs[1..].iter().any(|i| i.score(m).is_some()) {
                    acc.insert(m.into(), s);
                }
            });
        }
    }
    let mut items: Vec<(Vec<u8>, f64)> = acc.iter().map(|(m, s)| (m.to_vec(), *s)).collect();
    items.sort_by(|a, b| {
        a.1.partial_cmp(&b.1)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.0.cmp(&b.0))
    });
    Some((items, withscores))
}

/// ZUNION/ZINTER/ZDIFF numkeys key [key ...] ...: replies the result, with
/// scores if WITHSCORES was given.
pub(super) fn setop_reply(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>], op: SetOp) {
    if let Some((items, withscores)) = setop(srv, c, argv, 1, op, false) {
        reply_with_scores(c, &items, withscores);
    }
}

/// ZUNIONSTORE/ZINTERSTORE/ZDIFFSTORE dst numkeys key [key ...] ...: stores the
/// result at `dst` (deleting it when the result is empty) and replies its size.
pub(super) fn setop_store(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>], op: SetOp) {
    if let Some((items, _)) = setop(srv, c, argv, 2, op, true) {
        let z = build(srv, &items);
        let event = match op {
            SetOp::Union => "zunionstore",
            SetOp::Inter => "zinterstore",
            SetOp::Diff => "zdiffstore",
        };
        store(srv, c, &argv[1], z, event);
    }
}

/// ZUNION numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
pub(super) fn zunion(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    setop_reply(srv, c, argv, SetOp::Union)
}
/// ZINTER numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
pub(super) fn zinter(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    setop_reply(srv, c, argv, SetOp::Inter)
}
/// ZDIFF numkeys key [key ...] [WITHSCORES]: members of the first input absent
/// from all the others, with their original scores.
pub(super) fn zdiff(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    setop_reply(srv, c, argv, SetOp::Diff)
}
/// ZUNIONSTORE dst numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX]
pub(super) fn zunionstore(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    setop_store(srv, c, argv, SetOp::Union)
}
/// ZINTERSTORE dst numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX]
pub(super) fn zinterstore(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    setop_store(srv, c, argv, SetOp::Inter)
}
/// ZDIFFSTORE dst numkeys key [key ...]
pub(super) fn zdiffstore(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    setop_store(srv, c, argv, SetOp::Diff)
}

/// ZINTERCARD numkeys key [key ...] [LIMIT limit]
pub(super) fn zintercard(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let numkeys = match parse_i64(&argv[1]) {
        Some(n) if n > 0 => n as usize,
        Some(_) => {
            c.reply
                .error("ERR at least 1 input key is needed for 'zintercard' command");
            return;
        }
        None => {
            c.reply.error(NOT_INT);
            return;
        }
    };
    if numkeys > argv.len() - 2 {
        c.reply.error(errors::SYNTAX);
        return;
    }
    let mut limit = 0usize;
    let mut j = 2 + numkeys;
    while j < argv.len() {
        if argv[j].eq_ignore_ascii_case(b"limit") && j + 1 < argv.len() {
            match parse_i64(&argv[j + 1]) {
                Some(n) if n >= 0 => limit = n as usize,
                _ => {
                    c.reply.error(errors::LIMIT_NEGATIVE);
                    return;
                }
            }
            j += 2;
        } else {
            c.reply.error(errors::SYNTAX);
            return;
        }
    }
    let mut args = vec![b"zinter".to_vec(), argv[1].clone()];
    args.extend_from_slice(&argv[2..2 + numkeys]);
    let Some((items, _)) = setop(srv, c, &args, 1, SetOp::Inter, false) else {
        return;
    };
    let n = if limit > 0 {
        items.len().min(limit)
    } else {
        items.len()
    };
    c.reply.int(n as i64);
}
