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
        assert!(
            bin.is_file(),
            "TILLKEY_APP_BIN={} is not a file",
            bin.display()
        );
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
    match profile_dir
        .and_then(|d| d.file_name())
        .and_then(|n| n.to_str())
    {
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
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join(&name))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    let in_cargo_bin = cargo_home.map(|c| c.join("bin").join(&name));
    match on_path
        .into_iter()
        .chain(in_cargo_bin)
        .find(|p| p.is_file())
    {
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
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
            ])
            .env("TILLKEY_DATA_DIR", data_dir)
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
        let app = app_binary();
        let caps = json!({
            "browserName": "wry",
            "tauri:options": { "application": app },
        });
        let caps = caps
            .as_object()
            .cloned()
            .expect("capabilities are a JSON object");
        let url = format!("http://127.0.0.1:{}", self.port);
        match ClientBuilder::native()
            .capabilities(caps)
            .connect(&url)
            .await
        {
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
    match client
        .wait()
        .at_most(UI_TIMEOUT)
        .for_element(Locator::Css(css))
        .await
    {
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
        panic!(
            "the vault did not open: {}",
            err.text().await.unwrap_or_default()
        );
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
        names.push(
            row.attr("data-name")
                .await
                .expect("row attribute")
                .unwrap_or_default(),
        );
    }
    names
}

/// Opens the "Add credential" form, picks `provider` and fills the name and `fields`
/// (`data-testid="field-<name>"` inputs), then submits.
pub async fn submit_add_form(client: &Client, name: &str, provider: &str, fields: &[(&str, &str)]) {
    wait_for(
        client,
        &format!("{}:not([disabled])", testid("open-add-form")),
    )
    .await
    .click()
    .await
    .expect("the Add credential button can be clicked");
    let form = wait_for(client, &testid("add-form")).await;
    form.find(Locator::Css(&testid("provider-select")))
        .await
        .expect("the form has a provider picker")
        .select_by_value(provider)
        .await
        .unwrap_or_else(|e| panic!("provider `{provider}` cannot be picked: {e}"));
    let name_input = form
        .find(Locator::Css(&testid("name-input")))
        .await
        .expect("the form has a name input");
    name_input
        .clear()
        .await
        .expect("the name input can be cleared");
    name_input
        .send_keys(name)
        .await
        .expect("a name can be typed");
    for (field, value) in fields {
        form.find(Locator::Css(&testid(&format!("field-{field}"))))
            .await
            .unwrap_or_else(|e| panic!("the {provider} form has no `{field}` input: {e}"))
            .send_keys(value)
            .await
            .unwrap_or_else(|e| panic!("`{field}` cannot be typed into: {e}"));
    }
    form.find(Locator::Css(&testid("add-submit")))
        .await
        .expect("the form has a submit button")
        .click()
        .await
        .expect("the form can be submitted");
}

/// Every file under `dir` (recursively) whose bytes contain `needle`.
pub fn files_containing(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries =
            std::fs::read_dir(&d).unwrap_or_else(|e| panic!("cannot list {}: {e}", d.display()));
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
