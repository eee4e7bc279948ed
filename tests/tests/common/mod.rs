//! Helpers of the end-to-end tests: find the app and tauri-driver, run tauri-driver on free
//! ports with a given data dir, open WebDriver sessions on the app, and drive its UI.

#![allow(dead_code)] // Each test file uses a different subset.

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use std::fs::File;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

/// How long to wait for the UI to show something (a cold WebKitGTK start is slow on 2 cores).
pub const UI_TIMEOUT: Duration = Duration::from_secs(30);

/// One app at a time: the tests share one X display and one keyring, and CI has 2 cores.
static SERIAL: Mutex<()> = Mutex::new(());

/// Holds the lock that runs end-to-end tests one after another.
pub fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A tokio runtime for one test.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime for the test")
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the e2e crate sits in the workspace root")
        .to_path_buf()
}

/// The app binary: `$TILLKEY_APP_BIN`, else `tillkey-app` freshly built by cargo into the
/// target dir this test was built in (so the test never drives a stale binary).
pub fn app_binary() -> PathBuf {
    static APP: OnceLock<PathBuf> = OnceLock::new();
    APP.get_or_init(locate_or_build_app).clone()
}

fn locate_or_build_app() -> PathBuf {
    if let Some(bin) = std::env::var_os("TILLKEY_APP_BIN").filter(|v| !v.is_empty()) {
        let bin = PathBuf::from(bin);
        assert!(bin.is_file(), "TILLKEY_APP_BIN={} is not a file", bin.display());
        return std::fs::canonicalize(&bin).unwrap_or(bin);
    }
    let name = format!("tillkey-app{}", std::env::consts::EXE_SUFFIX);
    // target/<profile>/deps/<this test> → target/<profile>
    let profile_dir = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent()?.parent().map(Path::to_path_buf));
    build_app(profile_dir.as_deref());

    let mut candidates = Vec::new();
    if let Some(dir) = &profile_dir {
        candidates.push(dir.join(&name));
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    candidates.push(target.join("debug").join(&name));
    match candidates.iter().find(|c| c.is_file()) {
        Some(found) => found.clone(),
        None => panic!(
            "the Tillkey app binary was not found (looked at {}). Build it first:\n  \
             npm --prefix ui run build && cargo build -p tillkey-app\n\
             or point TILLKEY_APP_BIN at it.",
            candidates
                .iter()
                .map(|c| c.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// `cargo build -p tillkey-app` in the profile of this test, when run by cargo. A no-op
/// when the binary is up to date. It embeds `ui/dist` as it is: build the UI first.
fn build_app(profile_dir: Option<&Path>) {
    let Some(cargo) = std::env::var_os("CARGO") else {
        return; // Not run by cargo: use whatever binary is there.
    };
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--quiet", "-p", "tillkey-app"]);
    match profile_dir.and_then(|d| d.file_name()).and_then(|n| n.to_str()) {
        Some("debug") | None => {}
        Some("release") => {
            cmd.arg("--release");
        }
        Some(other) => {
            cmd.args(["--profile", other]);
        }
    }
    let out = cmd
        .current_dir(workspace_root())
        .output()
        .expect("cargo can be run to build the app");
    assert!(
        out.status.success(),
        "`cargo build -p tillkey-app` failed (does ui/dist exist? run `npm --prefix ui run build`):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `tauri-driver` on `PATH`, else in `~/.cargo/bin`.
pub fn tauri_driver_binary() -> PathBuf {
    let name = format!("tauri-driver{}", std::env::consts::EXE_SUFFIX);
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).map(|d| d.join(&name)).collect::<Vec<_>>())
        .unwrap_or_default();
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    let in_cargo_bin = cargo_home.map(|c| c.join("bin").join(&name));
    match on_path.into_iter().chain(in_cargo_bin).find(|p| p.is_file()) {
        Some(found) => found,
        None => panic!(
            "tauri-driver was not found on PATH or in ~/.cargo/bin. Install it with:\n  \
             cargo install tauri-driver --version '^2' --locked\n\
             (it also needs WebKitWebDriver: apt install webkit2gtk-driver)"
        ),
    }
}

/// A free TCP port on the loopback interface.
fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A running `tauri-driver` (and the WebKitWebDriver it starts). Stopped on drop.
pub struct Driver {
    child: Child,
    port: u16,
    log: PathBuf,
    _log_dir: tempfile::TempDir,
}

impl Driver {
    /// Starts tauri-driver on free ports; the apps it launches inherit
    /// `TILLKEY_DATA_DIR=data_dir`.
    pub fn start(data_dir: &Path) -> Driver {
        Driver::start_with(data_dir, &[])
    }

    /// Starts tauri-driver with extra environment variables for the apps it launches
    /// (`TILLKEY_TEST_NOW`, `TILLKEY_CLIPBOARD_CLEAR_SECS`, …).
    pub fn start_with(data_dir: &Path, env: &[(&str, &str)]) -> Driver {
        // Build or find the app before anything starts, so a build failure reads clearly.
        app_binary();
        let binary = tauri_driver_binary();
        let port = free_port();
        let mut native_port = free_port();
        while native_port == port {
            native_port = free_port();
        }
        let log_dir = tempfile::tempdir().expect("a temp dir for the driver log");
        let log = log_dir.path().join("tauri-driver.log");
        let out = File::create(&log).expect("the driver log file");
        let err = out.try_clone().expect("the driver log file, again");
        let child = Command::new(&binary)
            .args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
            .env("TILLKEY_DATA_DIR", data_dir)
            // No local agent from anything these tests start: none may be left behind.
            .env("TILLKEY_NO_AGENT", "1")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let mut driver = Driver {
            child,
            port,
            log,
            _log_dir: log_dir,
        };
        driver.wait_until_listening();
        driver
    }

    fn wait_until_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "tauri-driver exited with {status} before listening:\n{}",
                    self.log_text()
                );
            }
            if Instant::now() > deadline {
                panic!(
                    "tauri-driver did not listen on port {} within 30 s:\n{}",
                    self.port,
                    self.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// What tauri-driver, WebKitWebDriver and the app printed so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Opens a WebDriver session, which launches a fresh instance of the app.
    pub async fn launch_app(&self) -> Client {
        self.launch_app_with_args(&[]).await
    }

    /// Opens a WebDriver session on the app started with command-line `args`.
    pub async fn launch_app_with_args(&self, args: &[&str]) -> Client {
        let app = app_binary();
        let caps = json!({
            "browserName": "wry",
            "tauri:options": { "application": app, "args": args },
        });
        let caps = caps.as_object().cloned().expect("capabilities are a JSON object");
        let url = format!("http://127.0.0.1:{}", self.port);
        match ClientBuilder::native().capabilities(caps).connect(&url).await {
            Ok(client) => client,
            Err(e) => panic!(
                "cannot open a WebDriver session on {} (app {}): {e}\n{}",
                url,
                app.display(),
                self.log_text()
            ),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "--- tauri-driver / WebKitWebDriver / app output ---\n{}",
                self.log_text()
            );
        }
        // SIGTERM lets tauri-driver stop the WebKitWebDriver it started; SIGKILL would not.
        #[cfg(unix)]
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A CSS selector for `data-testid="id"`.
pub fn testid(id: &str) -> String {
    format!("[data-testid=\"{id}\"]")
}

/// The CSS selector of the list row of credential `name`.
pub fn row_selector(name: &str) -> String {
    format!("[data-testid=\"credential-row\"][data-name=\"{name}\"]")
}

/// Waits for an element matching `css`.
pub async fn wait_for(client: &Client, css: &str) -> Element {
    match client.wait().at_most(UI_TIMEOUT).for_element(Locator::Css(css)).await {
        Ok(el) => el,
        Err(e) => {
            let page = client.source().await.unwrap_or_default();
            panic!("`{css}` did not appear within {UI_TIMEOUT:?}: {e}\npage:\n{page}")
        }
    }
}

/// Waits until the credential list has loaded (a table or the empty state).
pub async fn wait_for_list(client: &Client) {
    let css = format!(
        "{}, {}, {}",
        testid("credential-list"),
        testid("empty-state"),
        testid("list-error")
    );
    wait_for(client, &css).await;
    if let Ok(err) = client.find(Locator::Css(&testid("list-error"))).await {
        panic!("the vault did not open: {}", err.text().await.unwrap_or_default());
    }
}

/// The names in the credential list, in display order.
pub async fn row_names(client: &Client) -> Vec<String> {
    let rows = client
        .find_all(Locator::Css(&testid("credential-row")))
        .await
        .expect("rows can be listed");
    let mut names = Vec::new();
    for row in rows {
        names.push(row.attr("data-name").await.expect("row attribute").unwrap_or_default());
    }
    names
}

/// Opens the "Add credential" form and picks `provider` in the provider picker.
pub async fn open_add_form(client: &Client, provider: &str) -> Element {
    wait_for(client, &format!("{}:not([disabled])", testid("open-add-form")))
        .await
        .click()
        .await
        .expect("the Add credential button can be clicked");
    let form = wait_for(client, &testid("add-form")).await;
    let option = testid(&format!("provider-option-{provider}"));
    let checked = format!("{option} input:checked");
    let deadline = Instant::now() + UI_TIMEOUT;
    while client.find(Locator::Css(&checked)).await.is_err() {
        assert!(Instant::now() < deadline, "provider `{provider}` could not be picked");
        form.find(Locator::Css(&option))
            .await
            .unwrap_or_else(|e| panic!("provider `{provider}` is not in the picker: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("provider `{provider}` cannot be picked: {e}"));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    wait_for(client, &testid("name-input")).await;
    form
}

/// Types `value` into the form input of `field` (`data-testid="field-<field>"`), opening
/// the "Optional settings" fold first if the field is in it. Checkboxes are set to
/// `value == "true"`, selects pick the option with that value.
pub async fn fill_field(client: &Client, field: &str, value: &str) {
    let css = testid(&format!("field-{field}"));
    wait_for(client, &css).await;
    // A field in the closed "Optional settings" fold: open it as a merchant would.
    let folded = client
        .execute(
            "const d = document.querySelector(arguments[0]).closest('details'); return !!d && !d.open;",
            vec![json!(css)],
        )
        .await
        .expect("the fold check runs");
    if folded == json!(true) {
        click(client, &testid("optional-summary")).await;
        let deadline = Instant::now() + UI_TIMEOUT;
        while !client
            .find(Locator::Css(&css))
            .await
            .expect("the field")
            .is_displayed()
            .await
            .unwrap_or(false)
        {
            assert!(
                Instant::now() < deadline,
                "the optional fold did not open for `{field}`"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let input = wait_for(client, &css).await;
    let tag = input.tag_name().await.expect("tag name");
    let kind = input.attr("type").await.expect("type attribute");
    if kind.as_deref() == Some("checkbox") {
        let checked = input.prop("checked").await.expect("checked").as_deref() == Some("true");
        if checked != (value == "true") {
            input.click().await.expect("the checkbox can be clicked");
        }
    } else if tag.eq_ignore_ascii_case("select") {
        input
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("`{field}` has no option `{value}`: {e}"));
    } else {
        type_into(client, &css, value).await;
    }
}

/// Empties a text input as a person would (select all, delete), so the page sees the
/// input events. (WebDriver's own clear does not fire them in WebKitGTK.)
pub async fn clear_input(input: &Element) {
    input
        .send_keys("\u{E009}a\u{E000}\u{E003}")
        .await
        .expect("the input can be emptied");
}

/// Replaces the value of the input matching `css` by typing `value`, and checks the input
/// holds it afterwards (typing is retried twice if WebKitWebDriver dropped keys).
pub async fn type_into(client: &Client, css: &str, value: &str) {
    let mut last = String::new();
    for _ in 0..3 {
        let input = wait_for(client, css).await;
        clear_input(&input).await;
        match input.send_keys(value).await {
            Ok(()) => {
                let now = input.prop("value").await.ok().flatten().unwrap_or_default();
                if now == value {
                    return;
                }
                last = format!("the input holds {now:?}");
            }
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("`{css}` cannot be typed into: {last}");
}

/// Types the credential name.
pub async fn fill_name(client: &Client, name: &str) {
    type_into(client, &testid("name-input"), name).await;
}

/// Opens the "Add credential" form, picks `provider`, fills the name and `fields`
/// (`data-testid="field-<name>"` inputs), then clicks Save (no test).
pub async fn submit_add_form(client: &Client, name: &str, provider: &str, fields: &[(&str, &str)]) {
    open_add_form(client, provider).await;
    fill_name(client, name).await;
    for (field, value) in fields {
        fill_field(client, field, value).await;
    }
    click(client, &testid("add-submit")).await;
}

/// Clicks the element matching `css` (waiting for it).
pub async fn click(client: &Client, css: &str) {
    wait_for(client, css)
        .await
        .click()
        .await
        .unwrap_or_else(|e| panic!("`{css}` cannot be clicked: {e}"));
}

/// Clicks the button `button` (a data-testid) inside the row of credential `name`.
pub async fn click_in_row(client: &Client, name: &str, button: &str) {
    click(client, &format!("{} {}", row_selector(name), testid(button))).await;
}

/// The text of the element matching `css` (waiting for it).
pub async fn text_of(client: &Client, css: &str) -> String {
    wait_for(client, css)
        .await
        .text()
        .await
        .unwrap_or_else(|e| panic!("`{css}` has no text: {e}"))
}

/// Waits until the text of the element matching `css` satisfies `ok`; returns it.
pub async fn wait_for_text(client: &Client, css: &str, what: &str, ok: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + UI_TIMEOUT;
    let mut last = String::new();
    loop {
        if let Ok(el) = client.find(Locator::Css(css)).await {
            if let Ok(t) = el.text().await {
                if ok(&t) {
                    return t;
                }
                last = t;
            }
        }
        if Instant::now() > deadline {
            let page = client.source().await.unwrap_or_default();
            panic!("`{css}` never showed {what} within {UI_TIMEOUT:?}; last text: {last:?}\npage:\n{page}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `KIND_FIELD=value` lines for a simulator's demo credential, as a merchant's `.env` holds
/// them (the names the import knows for each provider).
pub fn env_lines(out: &mut String, c: &tillkey_sim::DemoCredential) {
    use std::fmt::Write as _;
    let prefix = c.kind.to_uppercase().replace('-', "_");
    writeln!(out, "# {} ({})", c.kind, c.env).expect("write");
    writeln!(out, "{prefix}_ENV={}", c.env).expect("write");
    for (field, value) in c.fields.iter().chain(c.secrets.iter()) {
        writeln!(out, "{prefix}_{}=\"{value}\"", field.to_uppercase().replace('-', "_")).expect("write");
    }
    out.push('\n');
}

/// Opens Import… and waits until its dialog can take input.
pub async fn open_import_dialog(client: &Client) {
    click(client, &testid("open-import")).await;
    wait_for(client, &testid("import-dialog")).await;
    // The dialog opens with showModal after its first render: let it take focus.
    tokio::time::sleep(Duration::from_millis(300)).await;
}

/// Clicks Test in the row of `name` and asserts the report says the test passed (the
/// report's text in the failure message).
pub async fn test_in_row_passes(client: &Client, name: &str) {
    click_in_row(client, name, "test-button").await;
    let report = wait_for(client, &format!("{} {}", row_selector(name), testid("test-report"))).await;
    let shown = report.text().await.expect("report text");
    assert_eq!(
        report.attr("data-ok").await.expect("data-ok").as_deref(),
        Some("true"),
        "{name} failed its test:\n{shown}"
    );
}
/// Waits until no element matches `css`.
pub async fn wait_gone(client: &Client, css: &str) {
    let deadline = Instant::now() + UI_TIMEOUT;
    while client.find(Locator::Css(css)).await.is_ok() {
        assert!(Instant::now() < deadline, "`{css}` did not go away");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What `xclip -o -selection clipboard` prints (`None` when the clipboard holds no text).
pub fn clipboard_text() -> Option<String> {
    let out = Command::new("xclip")
        .args(["-o", "-selection", "clipboard"])
        .output()
        .expect("xclip runs (apt install xclip)");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    (out.status.success() && !text.is_empty()).then_some(text)
}

/// Puts `text` on the clipboard (xclip keeps serving it in the background).
pub fn set_clipboard(text: &str) {
    use std::io::Write;
    let mut child = Command::new("xclip")
        .args(["-i", "-selection", "clipboard"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("xclip runs");
    child
        .stdin
        .take()
        .expect("xclip stdin")
        .write_all(text.as_bytes())
        .expect("xclip takes the text");
    child.wait().expect("xclip forks and exits");
}

/// A desktop notification as the notification server recorded it.
#[derive(Debug, Clone)]
pub struct Notification {
    pub summary: String,
    pub body: String,
}

/// Every notification the session's dunst has shown so far (closing the ones on screen
/// first, which moves them into its history).
pub fn notifications() -> Vec<Notification> {
    let _ = Command::new("dunstctl").arg("close-all").status();
    let out = Command::new("dunstctl")
        .arg("history")
        .output()
        .expect("dunstctl runs (apt install dunst; run inside scripts/with-keyring.sh)");
    assert!(
        out.status.success(),
        "dunstctl history failed (is dunst running on this D-Bus session?): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("dunstctl history prints JSON");
    let field = |n: &serde_json::Value, name: &str| n[name]["data"].as_str().unwrap_or_default().to_string();
    json["data"][0]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|n| Notification {
                    summary: field(n, "summary"),
                    body: field(n, "body"),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Notifications that mention `needle` in their summary or body.
pub fn notifications_about(needle: &str) -> Vec<Notification> {
    notifications()
        .into_iter()
        .filter(|n| n.summary.contains(needle) || n.body.contains(needle))
        .collect()
}

/// Waits (up to the UI timeout) for a notification that mentions `needle`.
pub async fn wait_for_notification(needle: &str) -> Notification {
    let deadline = Instant::now() + UI_TIMEOUT;
    loop {
        if let Some(n) = notifications_about(needle).into_iter().next() {
            return n;
        }
        assert!(
            Instant::now() < deadline,
            "no notification about `{needle}` reached the notification server; it has: {:?}",
            notifications()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Every file under `dir` (recursively) whose bytes contain `needle`.
pub fn files_containing(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).unwrap_or_else(|e| panic!("cannot list {}: {e}", d.display()));
        for entry in entries {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                if bytes.windows(needle.len()).any(|w| w == needle) {
                    hits.push(path);
                }
            }
        }
    }
    hits
}

/// Every file under `dir`, for messages.
pub fn list_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        if let Ok(entries) = std::fs::read_dir(&d) {
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    files.push(path);
                }
            }
        }
    }
    files
}

/// The vault in `data_dir` as the app and the CLI see it (OS keyring), with a clock
/// pinned at `at`: what it adds was added (and rotated) then.
pub fn vault_at(data_dir: &Path, at: chrono::DateTime<chrono::Utc>) -> tillkey_core::Vault {
    tillkey_core::Vault::open(
        data_dir,
        std::sync::Arc::new(tillkey_core::KeyringStore),
        std::sync::Arc::new(tillkey_core::FixedClock::new(at)),
    )
    .expect("the test opens the vault")
}

/// Adds a demo credential of the simulators under `name`.
pub fn add_demo_credential(
    vault: &tillkey_core::Vault,
    c: &tillkey_sim::DemoCredential,
    name: &str,
) -> tillkey_core::CredentialSummary {
    vault
        .add(tillkey_core::NewCredential {
            name: name.to_string(),
            provider: c.kind.clone(),
            environment: Some(c.env.parse().expect("a demo environment")),
            fields: c.fields.clone(),
            secrets: c
                .secrets
                .iter()
                .map(|(k, v)| (k.clone(), secrecy::SecretString::from(v.clone())))
                .collect(),
        })
        .unwrap_or_else(|e| panic!("the test adds {name}: {e}"))
}

/// Removes every credential of the vault in `data_dir`, so the keyring entries the test
/// made do not outlive it.
pub fn clean_vault(data_dir: &Path) {
    let vault = vault_at(data_dir, chrono::Utc::now());
    for c in vault.list().unwrap_or_default() {
        let _ = vault.remove(&c.name);
    }
}

/// Opens the rotation wizard of credential `name` and waits until the dialog is shown.
pub async fn open_wizard(client: &Client, name: &str) {
    click_in_row(client, name, "rotate-button").await;
    wait_for(client, &format!("dialog{}[open]", testid("rotation-wizard"))).await;
}

/// Connects this machine's `data_dir` to the team vault `shop` at `address` with an engine
/// token (as `tillkey vault connect shop --address ADDRESS` with `token=` on stdin).
pub fn connect_team_shop(data_dir: &Path, address: &str, token: &str) {
    tillkey_core::vault::team::connect(
        data_dir,
        tillkey_core::vault::team::ConnectOptions::token("shop", address),
        secrecy::SecretString::from(token.to_string()),
        std::sync::Arc::new(tillkey_core::KeyringStore),
    )
    .expect("connect to the team vault");
}

/// `docs/screenshots/`, where the screenshot generators write.
pub fn shots_dir() -> std::path::PathBuf {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots");
    std::fs::create_dir_all(&dir).expect("the screenshots dir");
    dir
}

/// A screenshot of the window as the X display shows it (`import -window root`, cropped to
/// the window): WebDriver's own screenshot leaves out native parts and can hang.
pub async fn display_shot(client: &Client, name: &str) {
    // Let the page paint (WebDriver's own screenshot, once used for this, can hang over a
    // modal dialog).
    tokio::time::sleep(std::time::Duration::from_millis(900)).await;
    let (x, y, w, h) = client.get_window_rect().await.expect("the window's place");
    let out = shots_dir().join(name);
    let status = std::process::Command::new("import")
        .args(["-window", "root", "-crop"])
        .arg(format!("{w}x{h}+{x}+{y}"))
        .arg("+repage")
        .arg(&out)
        .status()
        .expect("ImageMagick's import runs (apt install imagemagick)");
    assert!(status.success(), "import failed: {status}");
}
