//! spawn: spawn 1M trivial tasks on Tokio's current_thread runtime, then
//! await each; prints the sum of their results.

const TASKS: i64 = 1_000_000;

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let sum = rt.block_on(async {
        let mut handles = Vec::with_capacity(TASKS as usize);
        for i in 0..TASKS {
            handles.push(tokio::spawn(async move { i ^ (i >> 3) }));
        }
        let mut sum = 0i64;
        for h in handles {
            sum += h.await.unwrap();
        }
        sum
    });
    println!("{sum}");
}
