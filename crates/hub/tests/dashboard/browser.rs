//! A real browser: Debian's headless Chromium driven by its `chromedriver`
//! over WebDriver (fantoccini), on an ephemeral port. Missing binaries are a
//! failure that names the packages, never a skip.

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const CHROMIUM: &str = "/usr/bin/chromium";

/// `chromedriver` in its own process group (so chromedriver and the browser
/// it starts go together), killed on drop.
pub struct Driver {
    child: Child,
    pub port: u16,
}

fn find(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

impl Driver {
    pub fn start() -> Driver {
        let driver = find("chromedriver");
        assert!(
            driver.is_some() && Path::new(CHROMIUM).exists(),
            "headless Chromium and its WebDriver are needed: run `scripts/setup.sh test` \
             (installs the Debian packages chromium and chromium-driver)"
        );
        let log = shots_dir().join("chromedriver.log");
        let mut child = Command::new(driver.unwrap())
            .arg("--port=0")
            .arg(format!("--log-path={}", log.display()))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("start chromedriver");
        let out = BufReader::new(child.stdout.take().unwrap());
        let mut port = None;
        for line in out.lines() {
            let line = line.expect("chromedriver's output");
            if let Some(rest) = line.split("started successfully on port ").nth(1) {
                port = rest.trim_end_matches('.').trim().parse().ok();
                break;
            }
        }
        Driver {
            port: port.expect("chromedriver says its port"),
            child,
        }
    }

    /// A browser session: headless, this window size, English unless told.
    pub async fn session(&self, width: u32, height: u32) -> Client {
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--no-first-run", "--disable-extensions", "--hide-scrollbars",
                    format!("--window-size={width},{height}"), "--lang=en-US",
                ],
                "prefs": { "intl.accept_languages": "en-US,en" },
            },
        });
        let Value::Object(caps) = caps else {
            unreachable!()
        };
        let mut builder = ClientBuilder::native();
        builder.capabilities(caps);
        tokio::time::timeout(
            Duration::from_secs(60),
            builder.connect(&format!("http://127.0.0.1:{}", self.port)),
        )
        .await
        .expect("Chromium starts within 60 s")
        .expect("a WebDriver session")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The whole group: chromedriver and any browser it left.
        let _ = Command::new("kill")
            .args(["-KILL", "--"])
            .arg(format!("-{}", self.child.id()))
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where this run's screenshots go: `target/test-output/dashboard/`.
pub fn shots_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target directory")
        .join("test-output/dashboard");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Helpers over a session.
pub struct Page<'a> {
    pub c: &'a Client,
    pub base: String,
}

impl Page<'_> {
    pub async fn goto(&self, path: &str) {
        self.c.goto(&format!("{}{path}", self.base)).await.unwrap();
    }

    pub async fn path(&self) -> String {
        let u = self.c.current_url().await.unwrap();
        match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_owned(),
        }
    }

    /// The element, once it is there (15 s at most: a loaded CI machine).
    pub async fn wait(&self, css: &str) -> fantoccini::elements::Element {
        match self
            .c
            .wait()
            .at_most(Duration::from_secs(15))
            .for_element(Locator::Css(css))
            .await
        {
            Ok(e) => e,
            Err(e) => {
                let url = self.c.current_url().await.map(|u| u.to_string());
                let src = self.c.source().await.unwrap_or_default();
                panic!("no {css:?} on {url:?}: {e}\n{src}")
            }
        }
    }

    pub async fn all(&self, css: &str) -> Vec<fantoccini::elements::Element> {
        self.c.find_all(Locator::Css(css)).await.unwrap()
    }

    pub async fn attr(&self, css: &str, name: &str) -> String {
        self.wait(css)
            .await
            .attr(name)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{css} has no {name}"))
    }

    pub async fn text(&self, css: &str) -> String {
        self.wait(css).await.text().await.unwrap()
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let e = self.wait(css).await;
        e.clear().await.unwrap();
        e.send_keys(text).await.unwrap();
    }

    pub async fn click(&self, css: &str) {
        self.wait(css).await.click().await.unwrap();
    }

    /// Run a script in the page and return its value.
    pub async fn js(&self, script: &str) -> Value {
        self.c.execute(script, vec![]).await.unwrap()
    }

    /// Save a screenshot as `NN-name.png` and print its path.
    pub async fn shot(&self, name: &str) -> PathBuf {
        // Bangla and Khmer faces load when a page first uses them, and a
        // screenshot does not wait: load every face, then two frames, or the
        // picture may show boxes where the words will be.
        self.c
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 Promise.all(Array.from(document.fonts).map(f => f.load().catch(() => null)))
                   .then(() => document.fonts.ready)
                   .then(() => requestAnimationFrame(() => requestAnimationFrame(() => done(true))));",
                vec![],
            )
            .await
            .unwrap();
        let png = self.c.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        let path = shots_dir().join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        println!("screenshot: {}", path.display());
        path
    }
}
