//! The in-place rewrite of the inventory that promote uses: change the `role:` of some hosts
//! and keep everything else of the file (comments, order, spacing, flow mappings) as written.
use super::locate::{find_key, key_of, lines};
use super::{locate, Role, Seg::Key as K};

/// Rewrites the `role:` of the named hosts in the inventory text, keeping everything else
/// (comments, order, spacing). Returns None when a host's role line cannot be found.
pub fn rewrite_roles(text: &str, changes: &[(String, Role)]) -> Option<String> {
    let ls = lines(text);
    let mut raw_lines: Vec<String> = text.lines().map(str::to_string).collect();
    let level = {
        let (hosts_line, _) = locate(text, &[K("hosts")])?;
        let first = ls.iter().position(|l| l.no > hosts_line)?;
        ls[first..].iter().filter_map(|l| l.item).min()?
    };
    let (hosts_line, _) = locate(text, &[K("hosts")])?;
    let starts: Vec<usize> = (0..ls.len())
        .filter(|&j| ls[j].no > hosts_line && ls[j].item == Some(level))
        .collect();
    for (name, role) in changes {
        let mut done = false;
        for (n, &s) in starts.iter().enumerate() {
            let e = starts.get(n + 1).copied().unwrap_or(ls.len());
            let block = &ls[s..e];
            let own = ls[s].indent;
            let has_name = block.iter().any(|l| {
                (l.indent == own
                    && key_of(l.content) == Some("name")
                    && yaml_scalar(&l.content[5..]) == *name)
                    || (l.content.starts_with('{')
                        && flow_value(l.content, "name").as_deref() == Some(name))
            });
            if !has_name {
                continue;
            }
            for l in block {
                let line = &mut raw_lines[l.no - 1];
                if l.indent == own && key_of(l.content) == Some("role") {
                    let col = line.len() - l.content.len();
                    let after = &l.content[5..];
                    let value_start = after.len() - after.trim_start().len();
                    let value = after.trim_start();
                    let vlen = value
                        .find(|c: char| c.is_whitespace() || c == '#')
                        .unwrap_or(value.len());
                    let abs = col + 5 + value_start;
                    line.replace_range(abs..abs + vlen, role.as_str());
                    done = true;
                    break;
                }
                if let Some(p) = find_key(line, "role") {
                    if line.contains('{') {
                        let after = &line[p + 4..];
                        let colon = after.find(':')?;
                        let vs = p + 4 + colon + 1;
                        let value = line[vs..].trim_start();
                        let vstart = line.len() - value.len();
                        let vlen = value
                            .find(|c: char| c.is_whitespace() || c == ',' || c == '}')
                            .unwrap_or(value.len());
                        line.replace_range(vstart..vstart + vlen, role.as_str());
                        done = true;
                        break;
                    }
                }
            }
            if done {
                break;
            }
        }
        if !done {
            return None;
        }
    }
    let mut out = raw_lines.join("\n");
    if text.ends_with('\n') {
        out.push('\n');
    }
    Some(out)
}

/// A plain or quoted scalar as written after `key:`, without a trailing comment or quotes.
fn yaml_scalar(s: &str) -> String {
    let s = s.trim();
    let s = match s.find(" #") {
        Some(p) => s[..p].trim(),
        None => s,
    };
    s.trim_matches('"').trim_matches('\'').to_string()
}

/// The value of `key` in a one-line flow mapping (`{name: a, role: master}`), unquoted.
fn flow_value(line: &str, key: &str) -> Option<String> {
    let p = find_key(line, key)?;
    let rest = &line[p + key.len()..];
    let rest = rest.trim_start().strip_prefix(':')?.trim_start();
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    Some(
        rest[..end]
            .trim()
            .trim_matches('"')
            .trim_matches('\'')
            .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::parse;
    use super::super::tests::GOOD;
    use super::*;

    #[test]
    fn rewrites_roles_keeping_comments() {
        let out = rewrite_roles(
            GOOD,
            &[("a".into(), Role::Replica), ("c".into(), Role::Master)],
        )
        .unwrap();
        assert!(out.contains("- name: a # the master\n    address: 127.0.0.1\n    role: replica\n"));
        assert!(out.contains("{name: c, address: 127.0.0.1, role: master, redis: {port: 7002}}"));
        let inv = parse(Path::new("inv.yaml"), &out).unwrap();
        assert_eq!(inv.master().name, "c");
    }
}
