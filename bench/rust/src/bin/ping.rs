//! ping: 1M messages between two tasks, 500k each way: the main task sends i
//! on `ping`, the other answers i + 1 on `pong`. Tokio has no rendezvous
//! channel; mpsc with capacity 1 is the closest. current_thread runtime.

const ROUNDS: i64 = 500_000;

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let sum = rt.block_on(async {
        let (ping_tx, mut ping_rx) = tokio::sync::mpsc::channel::<i64>(1);
        let (pong_tx, mut pong_rx) = tokio::sync::mpsc::channel::<i64>(1);
        let ponger = tokio::spawn(async move {
            for _ in 0..ROUNDS {
                let v = ping_rx.recv().await.unwrap();
                pong_tx.send(v + 1).await.unwrap();
            }
        });
        let mut sum = 0i64;
        for i in 0..ROUNDS {
            ping_tx.send(i).await.unwrap();
            sum += pong_rx.recv().await.unwrap();
        }
        ponger.await.unwrap();
        sum
    });
    println!("{sum}");
}
