//! A keyring of one's own for a test "machine": a private D-Bus session bus with its own
//! gnome-keyring-daemon, so two `tillkey` instances in one test never share a keyring.
//!
//! Rules learnt the hard way (see killed_writes.rs and keyring_locked.rs):
//! - every process started here gets a cleared environment (`PATH`, `HOME` and the private
//!   bus address only): an inherited `GNOME_KEYRING_CONTROL` would make the new daemon talk
//!   to the outer one, and an inherited `DBUS_SESSION_BUS_ADDRESS` would reach the outer bus;
//! - the bus runs with a configuration that has no service directories, so a call to
//!   `org.freedesktop.secrets` before (or after) our daemon owns the name fails at once
//!   instead of D-Bus activating a second, unprimed daemon;
//! - readiness is checked with `NameHasOwner`, never with a call to the Secret Service;
//! - the daemon is stopped with SIGTERM only after every client is gone (gnome-keyring 42
//!   aborts when a client vanishes mid session-open; the CLI runs here are never killed).

#[path = "bus_config.rs"]
mod bus_config;
#[path = "secret_tool.rs"]
mod secret_tool;
pub use secret_tool::Item;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PASSWORD: &str = "tillkey-private-keyring";

/// A private session bus and gnome-keyring-daemon, both stopped on drop.
pub struct PrivateKeyring {
    dir: tempfile::TempDir,
    address: String,
    bus: Option<Child>,
    daemon: Option<Child>,
}

impl PrivateKeyring {
    /// Starts the bus, then the daemon (its login keyring created and unlocked with a
    /// password on stdin), and waits until the daemon owns `org.freedesktop.secrets`.
    pub fn start() -> PrivateKeyring {
        let dir = tempfile::tempdir().expect("keyring temp dir");
        for d in ["home", "data", "cache", "control", "bus"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        // gnome-keyring refuses a control directory others can read.
        set_mode_700(&dir.path().join("control"));
        let config = dir.path().join("bus.conf");
        bus_config::write(&config, &dir.path().join("bus"));
        let mut bus = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--print-address=1"])
            .env_clear()
            .env("PATH", path_var())
            .env("HOME", dir.path().join("home"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon is installed by scripts/setup.sh");
        let mut address = String::new();
        BufReader::new(bus.stdout.take().unwrap())
            .read_line(&mut address)
            .expect("dbus-daemon prints its address");
        let address = address.trim().to_string();
        assert!(address.starts_with("unix:"), "dbus-daemon gave no address: {address:?}");
        let mut kr = PrivateKeyring {
            dir,
            address,
            bus: Some(bus),
            daemon: None,
        };
        let mut daemon = kr
            .command("gnome-keyring-daemon")
            .args(["--foreground", "--unlock", "--components=secrets"])
            .arg(format!(
                "--control-directory={}",
                kr.dir.path().join("control").display()
            ))
            .env("XDG_DATA_HOME", kr.dir.path().join("data"))
            .env("XDG_CACHE_HOME", kr.dir.path().join("cache"))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon is installed by scripts/setup.sh");
        {
            use std::io::Write;
            // The password creates and unlocks the login keyring; closing stdin ends it.
            let mut stdin = daemon.stdin.take().unwrap();
            stdin.write_all(PASSWORD.as_bytes()).unwrap();
        }
        kr.daemon = Some(daemon);
        let started = Instant::now();
        while !kr.secret_service_is_up() {
            assert!(
                kr.daemon.as_mut().unwrap().try_wait().unwrap().is_none(),
                "gnome-keyring-daemon exited at start"
            );
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "gnome-keyring-daemon did not take org.freedesktop.secrets within 10 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        kr
    }

    /// `program` set up to run on this keyring's bus, with a cleared environment.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new(program);
        c.env_clear()
            .env("PATH", path_var())
            .env("HOME", self.dir.path().join("home"))
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address);
        c
    }

    /// Whether our daemon owns the Secret Service name (asked of the bus, not the name).
    fn secret_service_is_up(&self) -> bool {
        self.command("dbus-send")
            .args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner",
                "string:org.freedesktop.secrets",
            ])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).contains("boolean true"))
            .unwrap_or(false)
    }

    /// Every `service=tillkey` entry in this keyring, sorted by account.
    pub fn items(&self) -> Vec<Item> {
        assert!(self.secret_service_is_up(), "the private gnome-keyring-daemon is gone");
        secret_tool::search(|| self.command("secret-tool"))
    }
}

impl Drop for PrivateKeyring {
    fn drop(&mut self) {
        if let Some(mut d) = self.daemon.take() {
            // SAFETY: signalling our own child by its pid.
            unsafe { libc::kill(d.id() as i32, libc::SIGTERM) };
            let deadline = Instant::now() + Duration::from_secs(5);
            while d.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = d.kill();
            let _ = d.wait();
        }
        if let Some(mut b) = self.bus.take() {
            let _ = b.kill();
            let _ = b.wait();
        }
    }
}

fn path_var() -> std::ffi::OsString {
    std::env::var_os("PATH").unwrap_or_default()
}

fn set_mode_700(p: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o700)).unwrap();
}
