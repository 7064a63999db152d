//! Output: one progress line per host (indicatif on a terminal, plain log lines otherwise),
//! aligned tables, JSON.
use std::collections::HashMap;
use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

/// Writes to stdout, ignoring errors (see the `out!` macro for why).
pub fn write_out(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut o = std::io::stdout().lock();
    let _ = o.write_fmt(args);
    let _ = o.flush();
}

/// Progress bars and in-place redraws only on a terminal; plain lines for pipes and logs.
pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

/// Per-host progress. Thread-safe; the blocking per-host workers call it.
pub struct Progress {
    bars: Option<(MultiProgress, HashMap<String, ProgressBar>)>,
    width: usize,
}

impl Progress {
    /// One line per host, in the given order (spinners on a terminal, nothing until a step otherwise).
    pub fn new(names: &[String]) -> Progress {
        let width = names.iter().map(|n| n.len()).max().unwrap_or(4);
        if !stdout_is_terminal() {
            return Progress { bars: None, width };
        }
        let mp = MultiProgress::new();
        let style = ProgressStyle::with_template("{spinner} {prefix} {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        let mut bars = HashMap::new();
        for n in names {
            let pb = mp.add(ProgressBar::new_spinner());
            pb.set_style(style.clone());
            pb.set_prefix(format!("{n:width$}"));
            pb.set_message("waiting");
            pb.enable_steady_tick(Duration::from_millis(100));
            bars.insert(n.clone(), pb);
        }
        Progress {
            bars: Some((mp, bars)),
            width,
        }
    }

    /// The host's current step.
    pub fn step(&self, host: &str, msg: &str) {
        match &self.bars {
            Some((_, bars)) => {
                if let Some(pb) = bars.get(host) {
                    pb.set_message(msg.to_string());
                }
            }
            None => out!("[{host:w$}] {msg}", w = self.width),
        }
    }

    /// The host is done: its last line stays.
    pub fn finish(&self, host: &str, ok: bool, msg: &str) {
        let mark = if ok { "ok  " } else { "FAIL" };
        match &self.bars {
            Some((_, bars)) => {
                if let Some(pb) = bars.get(host) {
                    pb.set_style(
                        ProgressStyle::with_template("{prefix} {wide_msg}")
                            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    );
                    pb.finish_with_message(format!("{mark} {msg}"));
                }
            }
            None => out!("[{host:w$}] {mark} {msg}", w = self.width),
        }
    }

    /// A line that is not about one host.
    pub fn println(&self, msg: &str) {
        match &self.bars {
            Some((mp, _)) => {
                let _ = mp.println(msg);
            }
            None => out!("{msg}"),
        }
    }
}

/// An aligned text table.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(c.chars().count());
            }
        }
    }
    let line = |cells: Vec<String>| -> String {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                s.push_str(c);
                s.push_str(&" ".repeat(widths[i] - c.chars().count() + 2));
            }
        }
        s.trim_end().to_string()
    };
    let mut out = line(headers.iter().map(|h| h.to_string()).collect());
    out.push('\n');
    for r in rows {
        out.push_str(&line(r.clone()));
        out.push('\n');
    }
    out
}

/// A unified-style line diff (no context trimming; configs are short).
pub fn diff(old: &str, new: &str) -> String {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let (n, m) = (a.len(), b.len());
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = String::new();
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
            out.push_str(&format!("- {}\n", a[i]));
            i += 1;
        } else {
            out.push_str(&format!("+ {}\n", b[j]));
            j += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn diff_shows_changed_lines_only() {
        let d = super::diff("a\nb\nc\n", "a\nB\nc\nd\n");
        assert_eq!(d, "- b\n+ B\n+ d\n");
        assert_eq!(super::diff("x\n", "x\n"), "");
    }

    #[test]
    fn table_aligns() {
        let t = super::table(&["a", "bb"], &[vec!["xxx".into(), "y".into()]]);
        assert_eq!(t, "a    bb\nxxx  y\n");
    }
}
