//! Lock held by a store open in another process. This test has its own
//! binary because a child holds copies of all open file descriptors of the
//! test process, sled's lock included, until it calls exec. Other tests that
//! drop a store and reopen it at that moment would have to wait for that.

use std::path::Path;
use std::process::Command;

use gwtrust_store::Store;

/// Environment variable through which `second_open_from_child_is_in_use`
/// passes the store directory to `child_opens_store`.
const CHILD_DIR_VAR: &str = "GWTRUST_STORE_TEST_CHILD_DIR";

#[test]
fn second_open_from_child_is_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let _first = Store::open(&path).unwrap();

    // Run `child_opens_store` alone in a copy of this test binary.
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_opens_store",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DIR_VAR, &path)
        .output()
        .expect("run test binary as child process");

    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "child failed:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains("child open result: in use"),
        "child output:\n{stdout}\n{stderr}"
    );
}

/// Child half of `second_open_from_child_is_in_use`: opens the store named
/// by the environment variable and reports the outcome on stdout. It does
/// nothing when run without that variable.
#[test]
#[ignore = "helper that second_open_from_child_is_in_use runs in a child process"]
fn child_opens_store() {
    let Some(path) = std::env::var_os(CHILD_DIR_VAR) else {
        println!("{CHILD_DIR_VAR} is not set, so there is no store to open");
        return;
    };
    match Store::open(Path::new(&path)) {
        Err(error) if error.is_in_use() => println!("child open result: in use ({error})"),
        Err(error) => panic!("expected StoreError::InUse, got {error:?}"),
        Ok(_) => panic!("the second open from a child process succeeded"),
    }
}
