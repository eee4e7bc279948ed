//! Linux process facts from /proc: a process tree, its memory (PSS and RSS), machine facts.

use std::collections::BTreeMap;
use std::fs;

/// `(pid, ppid)` from the text of `/proc/PID/stat` (the command name may hold spaces and
/// parentheses, so fields are counted after its last `)`).
pub fn parse_stat(stat: &str) -> Option<(u32, u32)> {
    let pid = stat.split_whitespace().next()?.parse().ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let _state = fields.next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((pid, ppid))
}

/// `root` and every live descendant of it.
pub fn tree(root: u32) -> Vec<u32> {
    let mut children: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    if let Ok(dir) = fs::read_dir("/proc") {
        for e in dir.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
                continue;
            };
            if let Some((p, ppid)) = fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| parse_stat(&s))
            {
                children.entry(ppid).or_default().push(p);
            }
        }
    }
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        if let Some(c) = children.get(&out[i]) {
            out.extend(c);
        }
        i += 1;
    }
    out
}

/// The `Pss:` and `Rss:` lines of `/proc/PID/smaps_rollup`, in kB.
pub fn parse_rollup(text: &str) -> (u64, u64) {
    let kb = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (kb("Pss:"), kb("Rss:"))
}

/// Memory of a set of processes: summed PSS and RSS in MB, and each process's name with
/// its PSS in MB.
#[derive(Debug, Clone, Default)]
pub struct TreeMemory {
    /// Sum of proportional set sizes (shared pages split between their users).
    pub pss_mb: f64,
    /// Sum of resident set sizes (shared pages counted in every process).
    pub rss_mb: f64,
    /// `(command name, PSS MB)` per process.
    pub each: Vec<(String, f64)>,
}

/// Memory of `root` and its descendants.
pub fn tree_memory(root: u32) -> TreeMemory {
    let mut m = TreeMemory::default();
    for pid in tree(root) {
        let Ok(text) = fs::read_to_string(format!("/proc/{pid}/smaps_rollup")) else {
            continue;
        };
        let (pss, rss) = parse_rollup(&text);
        let name = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        m.pss_mb += pss as f64 / 1024.0;
        m.rss_mb += rss as f64 / 1024.0;
        m.each.push((name.trim().to_string(), pss as f64 / 1024.0));
    }
    m
}

/// Whether `pid` is alive (and not a zombie).
pub fn alive(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => s
            .rfind(')')
            .and_then(|i| s[i + 1..].split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

/// Sends `signal` to `pid`.
pub fn signal(pid: u32, signal: i32) {
    if let Ok(pid) = libc::pid_t::try_from(pid) {
        // SAFETY: kill(2) has no memory-safety preconditions.
        unsafe {
            libc::kill(pid, signal);
        }
    }
}

/// CPU model, logical core count and kernel release of this machine.
pub fn machine() -> (String, usize, String) {
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|k| k.trim().to_string())
        .unwrap_or_else(|_| "unknown".into());
    (cpu, cores, kernel)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_with_spaces_and_parens_in_the_name() {
        assert_eq!(parse_stat("42 (Web Content) S 7 42 42 0 -1"), Some((42, 7)));
        assert_eq!(parse_stat("9 (a) b)) R 1 9"), Some((9, 1)));
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn rollup_lines() {
        let t = "55d0-7ff [rollup]\nRss:              120 kB\nPss:               80 kB\nPss_Anon: 10 kB\n";
        assert_eq!(parse_rollup(t), (80, 120));
    }

    #[test]
    fn this_process_is_in_its_own_tree_and_has_memory() {
        let me = std::process::id();
        assert_eq!(tree(me)[0], me);
        assert!(alive(me));
        let m = tree_memory(me);
        assert!(m.pss_mb > 0.0 && m.rss_mb >= m.pss_mb);
    }
}
