//! redis.conf syntax: one directive a line, `#` comment lines, arguments split as
//! Redis's sdssplitargs does (double quotes with escapes, single quotes), and
//! `include`.
//!
//! Our extension, on purpose: a trailing `# comment` after the arguments, as the
//! source document writes (`bind 0.0.0.0   #表示redis允许所有地址连接`). Real Redis
//! refuses such lines; we drop an unquoted `#` that follows whitespace and
//! everything after it. A quoted `"#"` is an ordinary argument.

use crate::server::util::split_args;

/// One directive line: where it came from and its arguments.
#[derive(Debug, Clone)]
pub struct Line {
    pub source: String,
    pub number: usize,
    pub text: String,
    pub args: Vec<String>,
}

/// Formats a fatal config error the way Redis does, naming the file too.
pub fn fatal(source: &str, line_no: usize, line: &str, msg: &str) -> String {
    format!(
        "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file {}, at line {}\n>>> '{}'\n{}",
        source,
        line_no,
        line.trim(),
        msg
    )
}

/// Cuts a trailing `# comment`: an unquoted `#` at the start of a word.
pub fn strip_trailing_comment(line: &str) -> &str {
    let b = line.as_bytes();
    let (mut inq, mut insq) = (false, false);
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if inq {
            if c == b'\\' {
                i += 1;
            } else if c == b'"' {
                inq = false;
            }
        } else if insq {
            if c == b'\\' && i + 1 < b.len() && b[i + 1] == b'\'' {
                i += 1;
            } else if c == b'\'' {
                insq = false;
            }
        } else if c == b'"' {
            inq = true;
        } else if c == b'\'' {
            insq = true;
        } else if c == b'#' && i > 0 && (b[i - 1] == b' ' || b[i - 1] == b'\t') {
            return &line[..i];
        }
        i += 1;
    }
    line
}

/// Splits a config text into directive lines, following `include`s.
pub fn lines(text: &str, source: &str, depth: usize) -> Result<Vec<Line>, String> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let number = i + 1;
        let t = raw.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let t = strip_trailing_comment(t).trim_end();
        let args = split_args(t.as_bytes()).map_err(|_| {
            fatal(
                source,
                number,
                raw,
                "Unbalanced quotes in configuration line",
            )
        })?;
        if args.is_empty() {
            continue;
        }
        let args: Vec<String> = args
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        if args[0].eq_ignore_ascii_case("include") {
            if args.len() != 2 {
                return Err(fatal(
                    source,
                    number,
                    raw,
                    "Bad directive or wrong number of arguments",
                ));
            }
            if depth > 16 {
                return Err(fatal(source, number, raw, "Too many nested includes"));
            }
            let path = &args[1];
            let inner = std::fs::read_to_string(path).map_err(|e| {
                fatal(
                    source,
                    number,
                    raw,
                    &format!("Can't open included config file {}: {}", path, e),
                )
            })?;
            out.extend(lines(&inner, path, depth + 1)?);
            continue;
        }
        out.push(Line {
            source: source.to_string(),
            number,
            text: raw.to_string(),
            args,
        });
    }
    Ok(out)
}

/// Builds the config text Redis builds from command-line options:
/// `--port 7000 --replicaof h 6379 --save ""` becomes one directive per `--name`.
pub fn options_text(args: &[String]) -> String {
    let mut text = String::new();
    let mut first = true;
    for a in args {
        if let Some(name) = a
            .strip_prefix("--")
            .filter(|n| !n.is_empty() && !n.starts_with('-'))
        {
            if !first {
                text.push('\n');
            }
            first = false;
            text.push_str(name);
        } else {
            text.push(' ');
            text.push('"');
            for ch in a.chars() {
                match ch {
                    '"' => text.push_str("\\\""),
                    '\\' => text.push_str("\\\\"),
                    '\n' => text.push_str("\\n"),
                    '\r' => text.push_str("\\r"),
                    c => text.push(c),
                }
            }
            text.push('"');
        }
    }
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_comments_from_the_source_document() {
        let text =
            "bind 0.0.0.0            #表示redis允许所有地址连接。默认127.0.0.1，仅允许本地连接。\n\
                    requirepass \"123456\"        #设置redis密码\n\
                    logfile \"/usr/local/bin/redis/redis.log\"    #设置redis日志存放路径\n\
                    masterauth \"a#b\" # quoted hash stays\n\
                    # a comment line\n\
                    \n\
                    replicaof 192.168.81.100 6379\n";
        let l = lines(text, "t.conf", 0).unwrap();
        assert_eq!(l[0].args, vec!["bind", "0.0.0.0"]);
        assert_eq!(l[1].args, vec!["requirepass", "123456"]);
        assert_eq!(l[2].args, vec!["logfile", "/usr/local/bin/redis/redis.log"]);
        assert_eq!(l[3].args, vec!["masterauth", "a#b"]);
        assert_eq!(l[4].args, vec!["replicaof", "192.168.81.100", "6379"]);
        assert_eq!(l[4].number, 7);
    }

    #[test]
    fn includes_and_errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let inc = dir.path().join("inc.conf");
        std::fs::write(&inc, "port 7000\n\"unbalanced\n").unwrap();
        let text = format!("include {}\n", inc.display());
        let e = lines(&text, "main.conf", 0).unwrap_err();
        assert!(
            e.contains(&format!(
                "Reading the configuration file {}, at line 2",
                inc.display()
            )),
            "{}",
            e
        );
        let e = lines("include /nonexistent/x.conf\n", "main.conf", 0).unwrap_err();
        assert!(
            e.contains("main.conf, at line 1") && e.contains("Can't open included config file"),
            "{}",
            e
        );
    }

    #[test]
    fn command_line_options() {
        let args: Vec<String> = ["--port", "7000", "--save", "", "--replicaof", "h", "6379"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let l = lines(&options_text(&args), "(command line)", 0).unwrap();
        assert_eq!(l[0].args, vec!["port", "7000"]);
        assert_eq!(l[1].args, vec!["save", ""]);
        assert_eq!(l[2].args, vec!["replicaof", "h", "6379"]);
    }
}
