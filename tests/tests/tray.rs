//! The resident app against the real desktop parts: its tray icon is driven through its
//! real D-Bus objects (a StatusNotifierWatcher served by this test on the session bus, then
//! the app's `org.kde.StatusNotifierItem` and `com.canonical.dbusmenu` objects), reminders
//! arrive through the session's dunst and its action is invoked with `dunstctl`, the window
//! is closed the way a window manager's close button does it (WM_DELETE_WINDOW), and
//! WebKit processes are counted in `/proc`.
//!
//! Run inside `scripts/with-keyring.sh` (Xvfb, D-Bus, gnome-keyring, dunst). The tests of
//! this file run one at a time (`serial`): the watcher is the session's only one.

mod common;

#[path = "../../crates/cli/tests/support/bao.rs"]
mod bao;
#[path = "../support/sni.rs"]
mod sni;
#[path = "../support/x11.rs"]
mod x11;

use bao::Bao;
use common::{app_binary, serial, testid, wait_for, wait_for_text, Driver};
use secrecy::SecretString;
use sni::{TrayItem, Watcher};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tillkey_core::{FixedClock, KeyringStore, NewCredential, Vault};
use x11::{close_windows_of, has_window, window_titles};

const WAIT: Duration = Duration::from_secs(40);

// ---------------------------------------------------------------- the app side

/// The app started directly (not through WebDriver), killed on drop.
struct App {
    child: Child,
    log: tempfile::NamedTempFile,
}

impl App {
    fn start(data_dir: &Path, args: &[&str], env: &[(&str, &str)]) -> App {
        let log = tempfile::NamedTempFile::new().expect("log file");
        let child = Command::new(app_binary())
            .arg("--data-dir")
            .arg(data_dir)
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(log.reopen().expect("log"))
            .stderr(log.reopen().expect("log"))
            .spawn()
            .expect("start tillkey-app");
        App { child, log }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("the app exited ({status}):\n{}", self.log_text());
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }
}

impl Drop for App {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- app output ---\n{}", self.log_text());
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The WebKit processes (web, network) whose parent is `pid`.
fn webkit_children(pid: u32) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid ...
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = &stat[open + 1..close];
        let ppid: u32 = stat[close + 2..]
            .split(' ')
            .nth(1)
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        if ppid == pid && comm.contains("WebKit") {
            out.push(comm.to_string());
        }
    }
    out
}

/// Waits until `pid` has (`want` true) or has no WebKit child process.
fn wait_webkit(pid: u32, want: bool) {
    let deadline = Instant::now() + WAIT;
    while webkit_children(pid).is_empty() == want {
        assert!(
            Instant::now() < deadline,
            "WebKit processes of the app: {:?} (wanted {})",
            webkit_children(pid),
            if want { "some" } else { "none" }
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Closes the app's window like its close button and waits until it is gone, pressing the
/// button again every 5 s while the window stays (a press can come before the window
/// handles it on a loaded machine). Returns how many presses it took.
fn close_window(pid: u32) -> usize {
    let deadline = Instant::now() + WAIT;
    let mut presses = 0;
    loop {
        assert!(
            close_windows_of(pid) >= 1 || presses > 0,
            "the app has no window to close"
        );
        presses += 1;
        let pressed = Instant::now();
        while has_window(pid) && pressed.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(100));
        }
        if !has_window(pid) {
            eprintln!("the window closed after {presses} press(es)");
            return presses;
        }
        assert!(
            Instant::now() < deadline,
            "the app still shows a window after {presses} presses: {:?}",
            window_titles(pid)
        );
    }
}

fn wait_window(pid: u32, want: bool) {
    let deadline = Instant::now() + WAIT;
    while has_window(pid) != want {
        assert!(
            Instant::now() < deadline,
            "the app {} a window; its windows: {:?}",
            if want { "did not open" } else { "still shows" },
            window_titles(pid)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

// ---------------------------------------------------------------- notifications

fn dunstctl(args: &[&str]) -> String {
    let out = Command::new("dunstctl")
        .args(args)
        .output()
        .expect("dunstctl (apt install dunst; run inside scripts/with-keyring.sh)");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Waits until dunst displays a notification; returns how many it displays.
fn wait_displayed() -> usize {
    let deadline = Instant::now() + WAIT;
    loop {
        let n: usize = dunstctl(&["count", "displayed"]).parse().unwrap_or(0);
        if n > 0 {
            return n;
        }
        assert!(
            Instant::now() < deadline,
            "no notification was displayed within {WAIT:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

// ---------------------------------------------------------------- vaults

/// A bearer credential added (and so last rotated) `days_ago` days ago: with the default
/// 90-day period, 100 days ago is 10 days overdue.
fn add_old(vault_of: impl Fn(chrono::DateTime<chrono::Utc>) -> Vault, name: &str, days_ago: i64) {
    let vault = vault_of(chrono::Utc::now() - chrono::Duration::days(days_ago));
    vault
        .add(NewCredential {
            name: name.into(),
            provider: "bearer".into(),
            environment: None,
            fields: Default::default(),
            secrets: [("token".to_string(), SecretString::from(format!("tok-{name}")))].into(),
        })
        .unwrap_or_else(|e| panic!("add {name}: {e}"));
}

fn local_at(dir: &Path) -> impl Fn(chrono::DateTime<chrono::Utc>) -> Vault + '_ {
    move |at| Vault::open(dir, Arc::new(KeyringStore), Arc::new(FixedClock::new(at))).expect("local vault")
}

fn team_at(dir: &Path) -> impl Fn(chrono::DateTime<chrono::Utc>) -> Vault + '_ {
    move |at| Vault::open_team(dir, "shop", Arc::new(KeyringStore), Arc::new(FixedClock::new(at))).expect("team vault")
}

/// Removes the local credentials the test made (their keyring entries).
fn clean(dir: &Path) {
    common::clean_vault(dir);
}

// ---------------------------------------------------------------- tests

/// Issue 12, acceptance 1: the app's clock (debug test clock) moves past the day a
/// credential becomes due while the app waits in the tray with no window: nothing is
/// reminded before, and the next check (debug interval) sends the reminder and lists the
/// credential in the tray, for the local vault and a team vault read under a read-only
/// policy alike.
#[test]
fn the_clock_passing_the_due_day_reminds_with_the_window_closed() {
    let _serial = serial();
    let watcher = Watcher::start();
    let bao = Bao::start();
    let admin = tempfile::tempdir().expect("admin dir");
    common::connect_team_shop(admin.path(), &bao.addr, &bao.token("tillkey-admin"));
    add_old(team_at(admin.path()), "team-soon", 0);
    let data = tempfile::tempdir().expect("data dir");
    add_old(local_at(data.path()), "till-soon", 0);
    common::connect_team_shop(data.path(), &bao.addr, &bao.token("tillkey-staff"));
    dunstctl(&["close-all"]);
    dunstctl(&["history-clear"]);

    // Added now with a 90-day period and the default 14-day lead: due soon from day 76.
    // The clock starts 6 s before that and runs on.
    let start = chrono::Utc::now() + chrono::Duration::days(76) - chrono::Duration::seconds(6);
    let start = start.to_rfc3339();
    let env = [
        ("TILLKEY_TEST_NOW", start.as_str()),
        ("TILLKEY_REMINDER_INTERVAL_SECS", "1"),
    ];
    let mut app = App::start(data.path(), &["--hidden"], &env);
    let (name, path) = watcher.wait_for_item(Some(app.pid()), || app.assert_running());
    let item = TrayItem::new(name, path);
    item.wait_for_entry(&["Nothing due for rotation"]);
    assert_eq!(dunstctl(&["count", "displayed"]), "0", "reminded before the due day");

    assert_eq!(wait_displayed(), 1);
    item.wait_for_entry(&["till-soon", "due in"]);
    item.wait_for_entry(&["team-soon (team shop)", "due in"]);
    assert!(item.tooltip().contains("2 due soon"), "{}", item.tooltip());
    let history = common::notifications();
    assert!(
        history
            .iter()
            .any(|n| n.summary == "2 credentials need rotation" && n.body.contains("team-soon (team shop)")),
        "{history:?}"
    );
    drop(app);
    clean(data.path());
    clean_team(admin.path());
}

/// Issue 12, acceptance 1 and 2: with no window (`--hidden`), a credential overdue in the
/// local vault and one in a team vault this machine reads under a read-only policy are
/// reminded in one notification; the tray lists both with the "due" icon; the notification's
/// action opens the window (WebKit starts); closing it leaves the app in the tray with no
/// WebKit process; the next check does not remind again the same day, and a restart neither.
#[test]
fn hidden_app_reminds_of_every_vault_and_opens_the_window_from_the_notification() {
    let _serial = serial();
    let watcher = Watcher::start();
    let bao = Bao::start();
    let admin = tempfile::tempdir().expect("admin dir");
    common::connect_team_shop(admin.path(), &bao.addr, &bao.token("tillkey-admin"));
    add_old(team_at(admin.path()), "team-due", 95);

    let data = tempfile::tempdir().expect("data dir");
    add_old(local_at(data.path()), "till-due", 100);
    add_old(local_at(data.path()), "till-fine", 10);
    common::connect_team_shop(data.path(), &bao.addr, &bao.token("tillkey-staff"));
    dunstctl(&["close-all"]);
    dunstctl(&["history-clear"]);

    let env = [("TILLKEY_REMINDER_INTERVAL_SECS", "2")];
    let mut app = App::start(data.path(), &["--hidden"], &env);
    let (name, path) = watcher.wait_for_item(Some(app.pid()), || app.assert_running());
    let item = TrayItem::new(name, path);

    // The reminder: one notification naming both vaults' credentials.
    assert_eq!(wait_displayed(), 1);
    assert!(webkit_children(app.pid()).is_empty(), "--hidden started WebKit");
    assert!(!has_window(app.pid()), "--hidden showed a window");

    // The tray: counts in the tooltip, the due icon, both credentials in the menu.
    let local = item.wait_for_entry(&["till-due", "overdue by 10 days"]);
    let team = item.wait_for_entry(&["team-due (team shop)", "overdue by 5 days"]);
    assert!(local.enabled && team.enabled);
    assert!(
        !item.menu().iter().any(|e| e.label.contains("till-fine")),
        "{:?}",
        item.menu()
    );
    let counts = item.wait_for_entry(&["2 overdue"]);
    assert!(!counts.enabled, "the counts line is not clickable");
    assert!(item.tooltip().contains("2 overdue"), "{}", item.tooltip());
    let (w, pixels) = item.icon();
    let corner = (((w - 12) * w + (w - 12)) * 4) as usize;
    assert_eq!(
        &pixels[corner..corner + 4],
        &[0xff, 0xd9, 0x2d, 0x20],
        "the due icon has a red dot"
    );
    for label in ["Open Tillkey", "Test all", "Pause reminders for today", "Quit Tillkey"] {
        item.wait_for_entry(&[label]);
    }

    // The notification's action opens the window.
    dunstctl(&["action", "0"]);
    wait_window(app.pid(), true);
    wait_webkit(app.pid(), true);

    // Closing it keeps the app in the tray, with no WebKit process left.
    close_window(app.pid());
    wait_webkit(app.pid(), false);
    std::thread::sleep(Duration::from_secs(5));
    app.assert_running();
    assert!(webkit_children(app.pid()).is_empty());

    // Reopened from the tray on the team vault's credential: the window is built again and
    // its page runs (it switches to the team vault, which sets the title).
    let team = item.wait_for_entry(&["team-due (team shop)"]);
    item.click(&team);
    let deadline = Instant::now() + WAIT;
    while !window_titles(app.pid())
        .iter()
        .any(|t| t == "Tillkey — Team vault shop")
    {
        assert!(Instant::now() < deadline, "titles: {:?}", window_titles(app.pid()));
        std::thread::sleep(Duration::from_millis(100));
    }
    close_window(app.pid());
    wait_webkit(app.pid(), false);

    // The record of this machine: both reminded today, in the local data dir only.
    let history = common::notifications();
    let reminders: Vec<_> = history
        .iter()
        .filter(|n| n.summary.contains("need rotation") || n.summary.starts_with("Rotate "))
        .filter(|n| n.body.contains("till-due") || n.summary.contains("till-due"))
        .collect();
    assert_eq!(
        reminders.len(),
        1,
        "one summarising reminder, not one per check: {history:?}"
    );
    assert_eq!(reminders[0].summary, "2 credentials need rotation");
    assert!(
        reminders[0].body.contains("till-due: overdue by 10 days"),
        "{:?}",
        reminders[0]
    );
    assert!(
        reminders[0].body.contains("team-due (team shop): overdue by 5 days"),
        "{:?}",
        reminders[0]
    );
    let record = std::fs::read_to_string(data.path().join("reminders.json")).expect("the reminder record");
    assert_eq!(
        record.matches(&chrono::Local::now().date_naive().to_string()).count(),
        2,
        "{record}"
    );
    let team_doc = bao.kv_get("vault").expect("the team document");
    assert!(!team_doc.to_string().contains("reminded"), "{team_doc}");

    // A restart the same day does not remind again; the tray still lists both.
    drop(app);
    dunstctl(&["history-clear"]);
    let mut app = App::start(data.path(), &["--hidden"], &env);
    watcher.items.lock().unwrap().clear();
    let (name, path) = watcher.wait_for_item(Some(app.pid()), || app.assert_running());
    let item = TrayItem::new(name, path);
    item.wait_for_entry(&["till-due"]);
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(dunstctl(&["count", "displayed"]), "0", "reminded twice on one day");

    // Test all from the tray: every credential of both vaults, one notification.
    let test_all = item.wait_for_entry(&["Test all"]);
    item.click(&test_all);
    wait_displayed();
    let outcome: Vec<_> = common::notifications()
        .into_iter()
        .filter(|n| n.summary.starts_with("Test all: "))
        .collect();
    assert_eq!(outcome.len(), 1, "{outcome:?}");
    let words: Vec<&str> = outcome[0].summary.split_whitespace().collect();
    // "Test all: P passed, F failed": every credential of both vaults was tested.
    let (p, f): (usize, usize) = (words[2].parse().expect("P"), words[4].parse().expect("F"));
    assert_eq!(p + f, 3, "{outcome:?}");

    // Quit from the tray ends the process.
    let quit = item.wait_for_entry(&["Quit Tillkey"]);
    item.click(&quit);
    let deadline = Instant::now() + WAIT;
    while app.child.try_wait().expect("wait").is_none() {
        assert!(Instant::now() < deadline, "Quit did not end the app");
        std::thread::sleep(Duration::from_millis(100));
    }
    clean(data.path());
    clean_team(admin.path());
}

fn clean_team(dir: &Path) {
    let v = team_at(dir)(chrono::Utc::now());
    for c in v.list().unwrap_or_default() {
        let _ = v.remove(&c.name);
    }
}

/// Issue 12, tray menu: with the window open, clicking a due credential in the tray opens
/// the window on it (the row is highlighted and a notice says why); without a tray (no
/// watcher), closing the window quits and the settings say why.
#[test]
fn a_tray_click_opens_the_window_on_that_credential_and_no_tray_means_close_quits() {
    let _serial = serial();
    let data = tempfile::tempdir().expect("data dir");
    add_old(local_at(data.path()), "click-due", 100);
    add_old(local_at(data.path()), "click-fine", 1);
    for i in 0..30 {
        add_old(local_at(data.path()), &format!("filler-{i:02}"), 1);
    }
    let rt = common::runtime();
    {
        let watcher = Watcher::start();
        let driver = Driver::start(data.path());
        rt.block_on(async {
            let client = driver.launch_app().await;
            common::wait_for_list(&client).await;
            let (name, path) = watcher.wait_for_item(None, || ());
            let item = TrayItem::new(name, path);
            let entry = item.wait_for_entry(&["click-due", "overdue by 10 days"]);
            item.click(&entry);
            let notice = wait_for_text(&client, &testid("focus-notice"), "the focus notice", |t| {
                t.contains("click-due")
            })
            .await;
            assert!(notice.contains("Due for rotation"), "{notice}");
            wait_for(&client, "li.cred-highlight[data-name=\"click-due\"]").await;

            // Settings: the tray exists, so "keep in the tray" can be chosen.
            common::click(&client, &testid("open-settings")).await;
            wait_for_text(&client, &testid("settings-tray-reason"), "the tray line", |t| {
                t.contains("Quit from the tray menu")
            })
            .await;
            let keep = wait_for(&client, &testid("settings-close-to-tray")).await;
            assert_eq!(keep.attr("disabled").await.expect("attr"), None);
            // With a tray the app outlives its window: Quit it from the tray.
            item.click(&item.wait_for_entry(&["Quit Tillkey"]));
            let _ = client.close().await;
        });
    }
    // No watcher now: the window's settings say why there is no tray.
    let driver = Driver::start(data.path());
    rt.block_on(async {
        let client = driver.launch_app().await;
        common::wait_for_list(&client).await;
        common::click(&client, &testid("open-settings")).await;
        let reason = wait_for_text(&client, &testid("settings-tray-reason"), "the tray reason", |t| {
            !t.is_empty()
        })
        .await;
        assert!(reason.contains("no tray icons"), "{reason}");
        assert!(reason.contains("closing the window quits"), "{reason}");
        let keep = wait_for(&client, &testid("settings-close-to-tray")).await;
        assert!(keep.attr("disabled").await.expect("attr").is_some());
        let _ = client.close().await;
    });
    clean(data.path());
}

/// Issue 12, single instance: a second launch with the same data dir hands over to the
/// first (which opens its window) and exits; a second `--demo` opens the demo vault in the
/// first; another data dir is another app.
#[test]
fn a_second_launch_focuses_the_first_and_another_data_dir_is_another_app() {
    let _serial = serial();
    let _watcher = Watcher::start();
    let data = tempfile::tempdir().expect("data dir");
    let other = tempfile::tempdir().expect("other data dir");
    let mut first = App::start(data.path(), &["--hidden"], &[]);
    std::thread::sleep(Duration::from_secs(3));
    first.assert_running();
    assert!(!has_window(first.pid()));

    let hand_over = |args: &[&str]| {
        let mut second = App::start(data.path(), args, &[]);
        let deadline = Instant::now() + WAIT;
        let status = loop {
            if let Some(s) = second.child.try_wait().expect("wait") {
                break s;
            }
            assert!(
                Instant::now() < deadline,
                "the second launch did not hand over and exit"
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        assert!(status.success(), "{status}: {}", second.log_text());
    };
    hand_over(&[]);
    wait_window(first.pid(), true);
    let deadline = Instant::now() + WAIT;
    while !window_titles(first.pid()).iter().any(|t| t == "Tillkey") {
        assert!(Instant::now() < deadline, "titles: {:?}", window_titles(first.pid()));
        std::thread::sleep(Duration::from_millis(100));
    }

    hand_over(&["--demo"]);
    let deadline = Instant::now() + WAIT;
    while !window_titles(first.pid()).iter().any(|t| t.contains("Demo vault")) {
        assert!(
            Instant::now() < deadline,
            "the first app did not show the demo vault; titles: {:?}",
            window_titles(first.pid())
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    let mut third = App::start(other.path(), &["--hidden"], &[]);
    std::thread::sleep(Duration::from_secs(3));
    third.assert_running();
    first.assert_running();
}

/// Issue 12, autostart: off by default; turned on in the settings it writes a login item
/// that starts `tillkey-app --hidden`; turned off it is gone.
#[test]
fn autostart_is_turned_on_and_off_from_the_window() {
    let _serial = serial();
    let data = tempfile::tempdir().expect("data dir");
    let home = tempfile::tempdir().expect("home");
    let home_str = home.path().to_str().expect("utf-8 temp path").to_string();
    let item = home.path().join(".config/autostart/Tillkey.desktop");
    let driver = Driver::start_with(data.path(), &[("HOME", &home_str)]);
    let rt = common::runtime();
    rt.block_on(async {
        let client = driver.launch_app().await;
        common::wait_for_list(&client).await;
        let toggle = |on: bool| {
            let client = client.clone();
            async move {
                common::click(&client, &testid("open-settings")).await;
                // The desktop settings have loaded when the tray line says something.
                wait_for_text(&client, &testid("settings-tray-reason"), "the tray line", |t| {
                    !t.is_empty()
                })
                .await;
                let boxed = wait_for(&client, &testid("settings-autostart")).await;
                let checked = boxed.prop("checked").await.expect("prop") == Some("true".into());
                assert_eq!(checked, !on, "the toggle shows the login item's state");
                boxed.click().await.expect("click");
                common::click(&client, &testid("settings-save")).await;
                common::wait_gone(&client, &testid("settings-dialog")).await;
            }
        };
        assert!(!item.exists(), "autostart is off by default");
        toggle(true).await;
        let text = std::fs::read_to_string(&item).expect("the login item is written");
        let exec = text.lines().find(|l| l.starts_with("Exec=")).expect("an Exec line");
        assert!(exec.contains("tillkey-app --hidden"), "{exec}");
        toggle(false).await;
        assert!(!item.exists(), "the login item is removed");
        let _ = client.close().await;
    });
}
