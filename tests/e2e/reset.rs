//! `reset` throws the instance away and starts a fresh one.

use crate::calculator;

#[tokio::test]
async fn reset_starts_from_a_fresh_state() {
    let sandbox = calculator().await;
    assert_eq!(sandbox.instances_created(), 1);
    for expected in 1..=3u64 {
        let n: u64 = sandbox.call("increment", ()).await.unwrap();
        assert_eq!(n, expected);
    }

    sandbox.reset().await.unwrap();
    assert_eq!(sandbox.instances_created(), 2);
    let n: u64 = sandbox.call("increment", ()).await.unwrap();
    assert_eq!(n, 1, "the counter starts over on the new instance");

    // Resetting twice in a row is fine.
    sandbox.reset().await.unwrap();
    sandbox.reset().await.unwrap();
    assert_eq!(sandbox.instances_created(), 4);
    let n: u64 = sandbox.call("increment", ()).await.unwrap();
    assert_eq!(n, 1);
}
