//! The crash tests' child processes: this test binary run again for one ignored test, its
//! stdout read line by line, killed with SIGKILL when the parent says.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::Duration;

/// A running child: the ignored test `test`, with `env` set.
pub struct ChildTest {
    child: Child,
    /// Every line the child prints, in order, until its stdout closes.
    pub lines: Receiver<String>,
}

impl ChildTest {
    pub fn spawn(test: &str, env: &[(&str, &std::ffi::OsStr)]) -> ChildTest {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                test,
                "--ignored",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        ChildTest { child, lines }
    }

    /// SIGKILL, then every line the child printed before it died.
    pub fn kill(mut self) -> Vec<String> {
        let _ = self.child.kill();
        self.child.wait().unwrap();
        self.lines.iter().collect()
    }

    /// Runs the child for `after`, then [`ChildTest::kill`]s it.
    pub fn run_killed_after(
        test: &str,
        env: &[(&str, &std::ffi::OsStr)],
        after: Duration,
    ) -> Vec<String> {
        let child = ChildTest::spawn(test, env);
        std::thread::sleep(after);
        child.kill()
    }
}
