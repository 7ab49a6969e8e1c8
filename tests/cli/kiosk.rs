//! Issue 17: `till kiosk enable` writes the XDG autostart entry that runs the
//! supervisor (`till --home HOME kiosk run`) and sets `[display] kiosk = true`;
//! `disable` takes both back.

use super::Cli;

#[test]
fn kiosk_enable_writes_the_autostart_entry_and_disable_removes_it() {
    let config = tempfile::tempdir().unwrap();
    let cli = Cli {
        home: tempfile::tempdir().unwrap(),
        vars: vec![(
            "XDG_CONFIG_HOME".into(),
            config.path().display().to_string(),
        )],
        secrets: vec![],
    };
    let entry = config.path().join("autostart/till.desktop");

    let (code, out, err) = cli.run(&["kiosk", "enable"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let text = std::fs::read_to_string(&entry).unwrap();
    let home = cli.home.path().display().to_string();
    let exec = text.lines().find(|l| l.starts_with("Exec=")).unwrap();
    assert!(
        exec.ends_with(&format!(" --home \"{home}\" kiosk run")),
        "{text}"
    );
    assert!(text.starts_with("[Desktop Entry]\n"), "{text}");
    let toml = std::fs::read_to_string(cli.home.path().join("till.toml")).unwrap();
    assert!(
        toml.contains("[display]") && toml.contains("kiosk = true"),
        "{toml}"
    );

    let (code, out, err) = cli.run(&["kiosk", "disable"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(!entry.exists());
    let toml = std::fs::read_to_string(cli.home.path().join("till.toml")).unwrap();
    assert!(toml.contains("kiosk = false"), "{toml}");
}
