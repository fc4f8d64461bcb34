//! A value loaded asynchronously, as a signal: `None` while it loads.
//!
//! What the apps need of `LocalResource` + `<Suspense>` (load, show a loading state, load
//! again on demand) without the async-derived and transition machinery that came with them
//! (docs/bench/client.md measures the difference).
use std::{future::Future, rc::Rc};

use leptos::prelude::*;

pub struct Loader<T: 'static> {
    value: RwSignal<Option<T>, LocalStorage>,
    run: StoredValue<Rc<dyn Fn()>, LocalStorage>,
}

impl<T: 'static> Clone for Loader<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: 'static> Copy for Loader<T> {}

impl<T: Clone + 'static> Loader<T> {
    /// Starts loading now. A result that arrives after a newer load was started is dropped.
    pub fn new<F, Fut>(fetch: F) -> Self
    where
        F: Fn() -> Fut + 'static,
        Fut: Future<Output = T> + 'static,
    {
        let value = RwSignal::new_local(None);
        let generation = StoredValue::new_local(0u32);
        let run: Rc<dyn Fn()> = Rc::new(move || {
            generation.update_value(|g| *g += 1);
            let mine = generation.get_value();
            value.set(None);
            let fut = fetch();
            leptos::task::spawn_local(async move {
                let v = fut.await;
                if generation.try_with_value(|g| *g == mine).unwrap_or(false) {
                    value.try_set(Some(v));
                }
            });
        });
        run();
        Loader {
            value,
            run: StoredValue::new_local(run),
        }
    }

    /// The loaded value, or `None` while loading (reactive).
    pub fn get(&self) -> Option<T> {
        self.value.get()
    }

    /// Loads again; `get` is `None` until the new value is there.
    pub fn refetch(&self) {
        if let Some(run) = self.run.try_get_value() {
            run();
        }
    }
}
