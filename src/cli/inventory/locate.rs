//! Locating a key path in the inventory text, so an error can name file:line:column.
//!
//! The YAML is parsed by serde_yaml, which forgets where a value was written; these helpers
//! scan the text line by line (block style, with one-line flow mappings) to find the line and
//! column of a path such as `hosts[1].redis.port`. Best-effort by design: a path that cannot be
//! found falls back to a less specific one, and in the end to 1:1.
use crate::cli::error::Error;

/// One step of a path into the YAML document: a mapping key or a list index.
#[derive(Clone, Debug)]
pub enum Seg {
    Key(&'static str),
    KeyOwned(String),
    Index(usize),
}

/// Makes errors about one inventory text: `file:line:column: message`, the location being
/// that of the most specific key path found in the text.
pub(super) struct Validator<'a> {
    /// The file name as the errors print it.
    pub(super) file: String,
    pub(super) text: &'a str,
}

impl Validator<'_> {
    /// Like [`Validator::err_at`], for paths written as slices.
    pub(super) fn err(&self, paths: &[&[Seg]], msg: impl Into<String>) -> Error {
        let owned: Vec<Vec<Seg>> = paths.iter().map(|p| p.to_vec()).collect();
        self.err_at(&owned, msg)
    }
    /// The error at the first of `paths` found in the text (the most specific comes first).
    pub(super) fn err_at(&self, paths: &[Vec<Seg>], msg: impl Into<String>) -> Error {
        let msg = msg.into();
        for p in paths {
            if let Some((line, col)) = locate(self.text, p) {
                return Error::usage(format!("{}:{line}:{col}: {msg}", self.file));
            }
        }
        Error::usage(format!("{}:1:1: {msg}", self.file))
    }
}

/// One meaningful line of the text (blank lines and comment lines are skipped).
pub(super) struct Line<'a> {
    /// 1-based line number.
    pub(super) no: usize,
    /// Column (0-based) where the content starts, after any `- ` list markers.
    pub(super) indent: usize,
    /// Column (0-based) of the `- ` marker when this line starts a list item.
    pub(super) item: Option<usize>,
    pub(super) content: &'a str,
}

/// The text's meaningful lines, each with its indentation and list-item marker.
pub(super) fn lines(text: &str) -> Vec<Line<'_>> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let trimmed = raw.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let mut indent = raw.len() - trimmed.len();
        let mut content = trimmed;
        let mut item = None;
        while content.starts_with("- ") || content == "-" {
            if item.is_none() {
                item = Some(indent);
            }
            let after = content[1..].trim_start();
            indent += content.len() - after.len();
            content = after;
        }
        out.push(Line {
            no: i + 1,
            indent,
            item,
            content,
        });
    }
    out
}

/// Best-effort: the 1-based (line, column) of the YAML node at `path` in block-style YAML,
/// with flow mappings on one line handled for the last key.
pub fn locate(text: &str, path: &[Seg]) -> Option<(usize, usize)> {
    let ls = lines(text);
    let (mut lo, mut hi) = (0usize, ls.len());
    let mut found: Option<(usize, usize)> = None;
    let mut inline: Option<(usize, usize)> = None; // (line index, search start byte) for flow maps
    for seg in path {
        if let Some((li, start)) = inline {
            // inside a flow mapping on one line: look for `key:` after `start`
            let key = match seg {
                Seg::Key(k) => k.to_string(),
                Seg::KeyOwned(k) => k.clone(),
                Seg::Index(_) => return found,
            };
            let content = ls[li].content;
            let pos = find_key(&content[start..], &key)? + start;
            found = Some((ls[li].no, ls[li].indent + pos + 1));
            inline = Some((li, pos + key.len()));
            continue;
        }
        match seg {
            Seg::Index(n) => {
                let level = (lo..hi).filter_map(|j| ls[j].item).min()?;
                let starts: Vec<usize> = (lo..hi).filter(|&j| ls[j].item == Some(level)).collect();
                let s = *starts.get(*n)?;
                let e = starts.get(n + 1).copied().unwrap_or(hi);
                found = Some((ls[s].no, level + 1));
                // the item's own keys start on line s at ls[s].indent
                lo = s;
                hi = e;
            }
            Seg::Key(_) | Seg::KeyOwned(_) => {
                let key = match seg {
                    Seg::Key(k) => k.to_string(),
                    Seg::KeyOwned(k) => k.clone(),
                    Seg::Index(_) => unreachable!(),
                };
                let level = (lo..hi).map(|j| ls[j].indent).min()?;
                let j = (lo..hi).find(|&j| {
                    ls[j].indent == level && key_of(ls[j].content) == Some(key.as_str())
                })?;
                found = Some((ls[j].no, ls[j].indent + 1));
                let rest = ls[j].content[key.len() + 1..].trim_start();
                if rest.starts_with('{') {
                    let off = ls[j].content.len() - rest.len();
                    inline = Some((j, off));
                }
                lo = j + 1;
                hi = (j + 1..hi)
                    .find(|&k| ls[k].indent <= level || ls[k].item.is_some_and(|c| c < level))
                    .unwrap_or(hi);
            }
        }
    }
    found
}

/// The key of a `key: value` line, unquoted; None when the line is not a mapping entry.
pub(super) fn key_of(content: &str) -> Option<&str> {
    let c = content.find(':')?;
    let k = content[..c].trim();
    let k = k.trim_matches('"').trim_matches('\'');
    if k.is_empty() || k.contains(' ') {
        None
    } else {
        Some(k)
    }
}

/// The byte offset of `key` followed by `:` in `s` (a whole key, not the tail of a longer
/// one); used inside one-line flow mappings.
pub(super) fn find_key(s: &str, key: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(p) = s[from..].find(key) {
        let at = from + p;
        let before_ok = at == 0
            || !s.as_bytes()[at - 1].is_ascii_alphanumeric() && s.as_bytes()[at - 1] != b'_';
        let after = s[at + key.len()..].trim_start();
        if before_ok && after.starts_with(':') {
            return Some(at);
        }
        from = at + key.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::tests::GOOD;
    use super::Seg::{Index as I, Key as K};
    use super::*;

    #[test]
    fn locates_nested_keys() {
        assert_eq!(locate(GOOD, &[K("redis"), K("port")]), Some((5, 3)));
        assert_eq!(
            locate(GOOD, &[K("hosts"), I(1), K("address")]),
            Some((13, 5))
        );
        assert_eq!(
            locate(GOOD, &[K("hosts"), I(1), K("redis"), K("port")]),
            Some((15, 14))
        );
        assert_eq!(locate(GOOD, &[K("hosts"), I(2)]), Some((16, 3)));
    }
}
