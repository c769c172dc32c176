//! sleepers: 1M tasks parked at once in `tokio::time::sleep` on the
//! current_thread runtime; the figure is the process's peak RSS. Each sleeps
//! for a second, again and again until main has spawned all of them (as in
//! the Go and Weft versions). Prints the sum of the tasks' results.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

const TASKS: i64 = 1_000_000;

static ALL_STARTED: AtomicBool = AtomicBool::new(false);

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let sum = rt.block_on(async {
        let mut handles = Vec::with_capacity(TASKS as usize);
        for i in 0..TASKS {
            handles.push(tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(1000)).await;
                    if ALL_STARTED.load(Ordering::Relaxed) {
                        break;
                    }
                }
                i % 7
            }));
        }
        ALL_STARTED.store(true, Ordering::Relaxed);
        let mut sum = 0i64;
        for h in handles {
            sum += h.await.unwrap();
        }
        sum
    });
    println!("{sum}");
}
