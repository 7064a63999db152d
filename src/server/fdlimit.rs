//! `maxclients` and the process's open-files limit (RLIMIT_NOFILE).
//!
//! Every client is a file descriptor, and the server needs some more for itself
//! (listeners, the log, snapshot files, pipes to a child). As Redis does, the
//! server raises its soft limit to fit `maxclients` plus that reserve, and when
//! the system will not allow it, serves as many clients as fit and says so.

/// Descriptors kept for the server itself beyond its clients (Redis's
/// CONFIG_MIN_RESERVED_FDS).
pub const RESERVED_FDS: u64 = 32;

/// How many clients fit after trying to raise RLIMIT_NOFILE for `maxclients`.
#[derive(Debug, PartialEq, Eq)]
pub struct Fit {
    /// Clients that fit (at most `maxclients`).
    pub clients: u64,
    /// The open-files limit before and after.
    pub old_limit: u64,
    pub new_limit: u64,
    /// Why the limit could not be raised to what `maxclients` needs.
    pub os_error: Option<String>,
}

/// Raises the soft open-files limit towards `maxclients + RESERVED_FDS` (never
/// lowering it), trying smaller steps when the hard limit refuses, and returns
/// how many clients fit.
pub fn fit_maxclients(maxclients: u64) -> Fit {
    let want = maxclients.saturating_add(RESERVED_FDS);
    // SAFETY: getrlimit/setrlimit with a valid rlimit struct.
    let mut lim: libc::rlimit = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Fit {
            clients: maxclients,
            old_limit: 0,
            new_limit: 0,
            os_error: Some(std::io::Error::last_os_error().to_string()),
        };
    }
    let old = lim.rlim_cur;
    if old >= want {
        return Fit {
            clients: maxclients,
            old_limit: old,
            new_limit: old,
            os_error: None,
        };
    }
    let mut best = old;
    let mut os_error = None;
    let mut attempt = want;
    while attempt > old {
        let l = libc::rlimit {
            rlim_cur: attempt,
            rlim_max: lim.rlim_max.max(attempt),
        };
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &l) } == 0 {
            best = attempt;
            break;
        }
        if os_error.is_none() {
            os_error = Some(std::io::Error::last_os_error().to_string());
        }
        // Without the right to raise the hard limit, the hard limit itself is the
        // best a soft limit can be; otherwise step down as Redis does.
        let l = libc::rlimit {
            rlim_cur: lim.rlim_max.min(attempt),
            rlim_max: lim.rlim_max,
        };
        if lim.rlim_max > old && unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &l) } == 0 {
            best = l.rlim_cur;
            break;
        }
        attempt = attempt.saturating_sub(16);
    }
    let clients = if best >= want {
        os_error = None;
        maxclients
    } else {
        best.saturating_sub(RESERVED_FDS).max(1)
    };
    Fit {
        clients,
        old_limit: old,
        new_limit: best,
        os_error,
    }
}

/// At startup: fits `maxclients` to the system and logs what Redis logs when it
/// had to raise the limit or reduce maxclients. Returns the maxclients to use.
pub fn adjust_at_startup(maxclients: u64) -> u64 {
    use crate::server::log;
    let fit = fit_maxclients(maxclients);
    if fit.clients < maxclients {
        log::warning(&format!(
            "You requested maxclients of {} requiring at least {} max file descriptors.",
            maxclients,
            maxclients + RESERVED_FDS
        ));
        if let Some(e) = &fit.os_error {
            log::warning(&format!(
                "Server can't set maximum open files to {} because of OS error: {}.",
                maxclients + RESERVED_FDS,
                e
            ));
        }
        log::warning(&format!(
            "Current maximum open files is {}. maxclients has been reduced to {} to compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'.",
            fit.new_limit, fit.clients
        ));
    } else if fit.new_limit > fit.old_limit {
        log::notice(&format!(
            "Increased maximum number of open files to {} (it was originally set to {}).",
            fit.new_limit, fit.old_limit
        ));
    }
    fit.clients
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_maxclients_always_fits() {
        let f = fit_maxclients(10);
        assert_eq!(f.clients, 10);
        assert!(f.new_limit >= 42);
    }
}
