//! A locked keyring answers with an unlock prompt that nobody sees in a headless session.
//! The CLI must give up after the keyring timeout with exit 3, not hang, and change nothing.
//!
//! The test runs the CLI in a D-Bus session of its own, with its own gnome-keyring that it
//! unlocks and then locks, so it never disturbs the keyring other tests use. Its
//! environment is cleared first: an inherited `GNOME_KEYRING_CONTROL` would make the new
//! daemon talk to the outer one over its control socket, and the outer daemon, asked to
//! serve a bus it is not on, later aborts (seen as a glib trap in the kernel log and every
//! following keyring test failing).

use std::process::Command;

#[test]
fn locked_keyring_is_a_clear_error_not_a_hang() {
    let dir = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let bin = assert_cmd::cargo::cargo_bin("tillkey");
    let script = r#"
        set -u
        export XDG_DATA_HOME="$HOME_DIR/data" XDG_CACHE_HOME="$HOME_DIR/cache"
        mkdir -p "$XDG_DATA_HOME" "$XDG_CACHE_HOME"
        printf pw | gnome-keyring-daemon --unlock --components=secrets --control-directory="$HOME_DIR" >/dev/null 2>&1
        # Ask the bus whether the name is taken; a call to the name itself would make D-Bus
        # activate a second, unprimed daemon if ours has not registered yet.
        for _ in $(seq 100); do
          dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
            org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null |
            grep -q 'boolean true' && break
          sleep 0.05
        done
        # Works while unlocked ...
        printf 'token=first\n' | "$BIN" --data-dir "$DATA" add open --provider bearer >/dev/null || exit 90
        dbus-send --session --print-reply --dest=org.freedesktop.secrets /org/freedesktop/secrets \
          org.freedesktop.Secret.Service.Lock array:objpath:/org/freedesktop/secrets/aliases/default >/dev/null || exit 91
        # ... and not once locked.
        printf 'token=abc123\n' | TILLKEY_KEYRING_TIMEOUT_SECS=2 "$BIN" --data-dir "$DATA" add shop --provider bearer
        rc=$?
        pkill -f -- "--control-directory=$HOME_DIR" || true
        exit $rc
    "#;
    let out = Command::new("timeout")
        .args(["60", "dbus-run-session", "--", "sh", "-c", script])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("HOME_DIR", home.path())
        .env("BIN", &bin)
        .env("TILLKEY_NO_AGENT", "1")
        .env("DATA", dir.path())
        .output()
        .expect("dbus-run-session and gnome-keyring are installed by scripts/setup.sh");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "stderr: {stderr}");
    assert!(stderr.contains("error[keyring_locked]"), "{stderr}");
    assert!(stderr.contains("Unlock your login keyring"), "{stderr}");
    let meta = std::fs::read_to_string(dir.path().join("vault.json")).unwrap();
    assert!(meta.contains("\"open\""), "the unlocked add went through");
    assert!(!meta.contains("\"shop\""), "the locked add changed the vault");
    assert!(!meta.contains("abc123"));
}
