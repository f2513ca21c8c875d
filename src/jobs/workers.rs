//! A bounded set of workers: a fixed number of long-lived tasks taking items from one queue,
//! so at most that many calls of one kind are in flight and none costs a task of its own.
//! The caller hands an item over only while a worker is free ([`Workers::try_send`]), so
//! the queue never holds more than the workers are about to take; `on_free` runs each time
//! a worker finishes an item, so whoever holds more work can hand the next one over.
//! The workers end once the `Workers` is dropped and the items already handed over are done.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::{Mutex, mpsc};

pub(super) struct Workers<T> {
    queue: mpsc::UnboundedSender<T>,
    busy: Arc<AtomicUsize>,
    size: usize,
}

impl<T: Send + 'static> Workers<T> {
    /// Starts `size` workers (at least one) on the current runtime; each runs `work` on one
    /// item at a time.
    pub fn start<W, F, D>(size: usize, work: W, on_free: D) -> Workers<T>
    where
        W: Fn(T) -> F + Send + Sync + 'static,
        F: Future<Output = ()> + Send + 'static,
        D: Fn() + Send + Sync + 'static,
    {
        let size = size.max(1);
        let (queue, items) = mpsc::unbounded_channel::<T>();
        let items = Arc::new(Mutex::new(items));
        let busy = Arc::new(AtomicUsize::new(0));
        let work = Arc::new(work);
        let on_free = Arc::new(on_free);
        for _ in 0..size {
            let (items, busy, work, on_free) =
                (items.clone(), busy.clone(), work.clone(), on_free.clone());
            tokio::spawn(async move {
                loop {
                    // One worker at a time waits for the next item; the others wait their turn.
                    let next = items.lock().await.recv().await;
                    let Some(item) = next else { break };
                    work(item).await;
                    busy.fetch_sub(1, Ordering::AcqRel);
                    on_free();
                }
            });
        }
        Workers { queue, busy, size }
    }

    /// Hands `item` to a free worker; gives it back when every worker is busy.
    pub fn try_send(&self, item: T) -> Result<(), T> {
        let taken = self
            .busy
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |busy| {
                (busy < self.size).then_some(busy + 1)
            });
        if taken.is_err() {
            return Err(item);
        }
        self.queue.send(item).map_err(|e| {
            self.busy.fetch_sub(1, Ordering::AcqRel);
            e.0
        })
    }

    /// How many workers are free for another item.
    pub fn free(&self) -> usize {
        self.size.saturating_sub(self.busy.load(Ordering::Acquire))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex as StdMutex;
    use tokio::sync::Semaphore;

    /// Workers whose items wait for a permit of `gate` and are recorded when done.
    fn gated(
        size: usize,
        gate: Arc<Semaphore>,
        done: Arc<StdMutex<Vec<u32>>>,
        freed: Arc<Semaphore>,
    ) -> Workers<u32> {
        Workers::start(
            size,
            move |item: u32| {
                let (gate, done) = (gate.clone(), done.clone());
                async move {
                    gate.acquire().await.unwrap().forget();
                    done.lock().unwrap().push(item);
                }
            },
            move || freed.add_permits(1),
        )
    }

    #[tokio::test]
    async fn at_most_size_items_are_in_flight_and_each_free_worker_takes_the_next() {
        let gate = Arc::new(Semaphore::new(0));
        let done = Arc::new(StdMutex::new(Vec::new()));
        let freed = Arc::new(Semaphore::new(0));
        let workers = gated(3, gate.clone(), done.clone(), freed.clone());
        for item in 0..3 {
            assert!(workers.try_send(item).is_ok());
        }
        // Every worker holds an item: the fourth is given back, nothing is lost.
        assert_eq!(workers.try_send(3), Err(3));
        assert_eq!(workers.free(), 0);
        // One item finishes: its worker says so, and takes the next one.
        gate.add_permits(1);
        freed.acquire().await.unwrap().forget();
        assert_eq!(done.lock().unwrap().len(), 1);
        assert_eq!(workers.free(), 1);
        assert!(workers.try_send(3).is_ok());
        assert_eq!(workers.try_send(4), Err(4));
        gate.add_permits(3);
        freed.acquire_many(3).await.unwrap().forget();
        let mut all = done.lock().unwrap().clone();
        all.sort();
        assert_eq!(all, vec![0, 1, 2, 3]);
        assert_eq!(workers.free(), 3);
    }

    #[tokio::test]
    async fn zero_workers_means_one() {
        let gate = Arc::new(Semaphore::new(1));
        let done = Arc::new(StdMutex::new(Vec::new()));
        let freed = Arc::new(Semaphore::new(0));
        let workers = gated(0, gate, done.clone(), freed.clone());
        assert!(workers.try_send(7).is_ok());
        freed.acquire().await.unwrap().forget();
        assert_eq!(*done.lock().unwrap(), vec![7]);
    }

    #[tokio::test]
    async fn dropping_the_set_lets_handed_over_items_finish_and_the_workers_end() {
        let gate = Arc::new(Semaphore::new(0));
        let done = Arc::new(StdMutex::new(Vec::new()));
        let freed = Arc::new(Semaphore::new(0));
        let workers = gated(2, gate.clone(), done.clone(), freed.clone());
        workers.try_send(1).unwrap();
        workers.try_send(2).unwrap();
        drop(workers);
        gate.add_permits(2);
        freed.acquire_many(2).await.unwrap().forget();
        let mut all = done.lock().unwrap().clone();
        all.sort();
        assert_eq!(all, vec![1, 2]);
        // The workers let go of what they captured once the queue closed.
        for _ in 0..100 {
            if Arc::strong_count(&gate) == 1 {
                break;
            }
            tokio::task::yield_now().await;
        }
        assert_eq!(Arc::strong_count(&gate), 1);
    }
}
