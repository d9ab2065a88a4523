//! `./sp-gateway.json` is read when no path is given. Alone in its own test
//! binary because it changes the working directory, which is process-wide.

// Helpers outside #[test] functions panic on purpose too.
#![allow(clippy::unwrap_used)]

use std::fs;

use spgw_config::load;

#[test]
fn default_file_in_working_directory_is_used_when_present() {
    let dir = std::env::temp_dir().join(format!("spgw-config-default-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    std::env::set_current_dir(&dir).unwrap();

    // No file: built-in defaults.
    let _ = fs::remove_file("sp-gateway.json");
    assert_eq!(load(None, Vec::new()).unwrap().server.port, 8080);

    fs::write("sp-gateway.json", "{ /* here */ \"server\": {\"port\": 4321} }").unwrap();
    assert_eq!(load(None, Vec::new()).unwrap().server.port, 4321);
    // An empty CONFIG_PATH is the same as none.
    let empty = vec![("CONFIG_PATH".to_string(), String::new())];
    assert_eq!(load(None, empty).unwrap().server.port, 4321);

    fs::remove_dir_all(&dir).unwrap();
}
