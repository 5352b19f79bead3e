//! A progress line on stderr for long runs on a terminal.
//!
//! Most renders finish in well under a second, and a line that flashes up and
//! vanishes is noise, so nothing is drawn until a run has taken
//! [`DELAY`]; after that a spinner and the current phase are redrawn in place
//! until the run ends, when the line is erased. Only the orchestrator turns it
//! on, and only when stderr is a terminal and the output is for humans: piped
//! output, CI logs and `--quiet` runs never see a control character.
//!
//! Stages do not know about it: the orchestrator names each phase through
//! [`phase`], which does nothing while no progress line is active.
//!
//! Architecture invariant: knows no stage and no input, only phases by name.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long a run may take before a progress line appears.
pub(crate) const DELAY: Duration = Duration::from_millis(400);
const TICK: Duration = Duration::from_millis(100);

static PHASE: Mutex<Option<String>> = Mutex::new(None);

/// Names what the run is doing now (shown only while a [`Progress`] is active).
pub(crate) fn phase(text: impl Into<String>) {
    if let Ok(mut p) = PHASE.lock() {
        if p.is_some() {
            *p = Some(text.into());
        }
    }
}

/// An active progress line; erased when dropped.
pub(crate) struct Progress {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    /// Does nothing when `enabled` is false.
    pub(crate) fn start(enabled: bool, first: &str) -> Progress {
        Progress::start_on(enabled, first, DELAY, Box::new(std::io::stderr()))
    }

    /// Like `start`, drawing on `out` after `delay` (for tests).
    pub(crate) fn start_on(
        enabled: bool,
        first: &str,
        delay: Duration,
        mut out: Box<dyn Write + Send>,
    ) -> Progress {
        let stop = Arc::new(AtomicBool::new(false));
        if !enabled {
            return Progress { stop, thread: None };
        }
        if let Ok(mut p) = PHASE.lock() {
            *p = Some(first.to_string());
        }
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            const FRAMES: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
            let start = Instant::now();
            let mut drawn = false;
            let mut frame = 0;
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(TICK.min(delay.max(Duration::from_millis(1))));
                if start.elapsed() < delay || flag.load(Ordering::Relaxed) {
                    continue;
                }
                let text = PHASE
                    .lock()
                    .ok()
                    .and_then(|p| p.clone())
                    .unwrap_or_default();
                // `\r` and "erase line" redraw in place without scrolling.
                let _ = write!(
                    out,
                    "\r\x1b[2K{} {text} ({:.1}s)",
                    FRAMES[frame % FRAMES.len()],
                    start.elapsed().as_secs_f64()
                );
                let _ = out.flush();
                drawn = true;
                frame += 1;
            }
            if drawn {
                let _ = write!(out, "\r\x1b[2K");
                let _ = out.flush();
            }
        });
        Progress {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if let Ok(mut p) = PHASE.lock() {
            *p = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    // One test only: the phase is process-wide state.
    #[test]
    fn draws_after_the_delay_then_erases_and_stays_silent_when_off() {
        let buf = Buf::default();
        let p = Progress::start_on(
            true,
            "loading",
            Duration::from_millis(1),
            Box::new(buf.clone()),
        );
        std::thread::sleep(Duration::from_millis(250));
        phase("rendering 3 instances");
        std::thread::sleep(Duration::from_millis(250));
        drop(p);
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        assert!(text.contains("loading ("), "{text:?}");
        assert!(text.contains("rendering 3 instances ("), "{text:?}");
        assert!(text.ends_with("\r\x1b[2K"), "{text:?}");

        let quiet = Buf::default();
        let p = Progress::start_on(false, "x", Duration::ZERO, Box::new(quiet.clone()));
        phase("y");
        std::thread::sleep(Duration::from_millis(150));
        drop(p);
        assert!(quiet.0.lock().unwrap().is_empty());

        // A fast run never draws.
        let fast = Buf::default();
        drop(Progress::start_on(
            true,
            "x",
            Duration::from_secs(60),
            Box::new(fast.clone()),
        ));
        assert!(fast.0.lock().unwrap().is_empty());
    }
}
