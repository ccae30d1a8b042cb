//! The error collector: gathers the errors of one pass over the input, so
//! that one mistake does not hide the next, and makes sure they are reported.

/// Collects errors so that one mistake does not hide the next.
///
/// A pass creates one, [`push`](Errors::push)es every error it finds, and
/// ends with [`finish`](Errors::finish), which turns them into one combined
/// `syn::Error`. Dropping a collector that still holds errors is a bug in
/// this crate — the errors would vanish and the macro would expand as if the
/// input were fine — so it panics (unless the thread is already panicking),
/// which the compiler shows as a proc-macro panic naming the lost errors.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    /// Adds an error.
    pub(crate) fn push(&mut self, err: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(err),
            None => self.0 = Some(err),
        }
    }

    /// Ends the pass: every error pushed, combined into one, or `Ok` if
    /// there were none.
    pub(crate) fn finish(mut self) -> syn::Result<()> {
        match self.0.take() {
            Some(err) => Err(err),
            None => Ok(()),
        }
    }

    /// Whether no error has been pushed yet.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_none()
    }
}

impl Drop for Errors {
    fn drop(&mut self) {
        if let Some(err) = &self.0
            && !std::thread::panicking()
        {
            let all: Vec<String> = err.into_iter().map(|e| e.to_string()).collect();
            panic!(
                "wasm-sandbox-macros dropped errors without reporting them (a bug in \
                 wasm-sandbox-macros; please report it): {}",
                all.join("; ")
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(msg: &str) -> syn::Error {
        syn::Error::new(proc_macro2::Span::call_site(), msg)
    }

    #[test]
    fn finish_gives_every_pushed_error_combined() {
        let mut errors = Errors::default();
        errors.push(error("first"));
        errors.push(error("second"));
        errors.push(error("third"));
        assert!(!errors.is_empty());
        let err = errors.finish().unwrap_err();
        let all: Vec<String> = err.into_iter().map(|e| e.to_string()).collect();
        assert_eq!(all, ["first", "second", "third"]);
    }

    #[test]
    fn finish_without_errors_is_ok() {
        let errors = Errors::default();
        assert!(errors.is_empty());
        assert!(errors.finish().is_ok());
    }

    #[test]
    fn an_empty_collector_may_be_dropped() {
        drop(Errors::default());
    }

    #[test]
    #[should_panic(
        expected = "wasm-sandbox-macros dropped errors without reporting them (a bug in \
                    wasm-sandbox-macros; please report it): lost; also lost"
    )]
    fn dropping_pending_errors_panics() {
        let mut errors = Errors::default();
        errors.push(error("lost"));
        errors.push(error("also lost"));
        drop(errors);
    }

    #[test]
    #[should_panic(expected = "the first panic")]
    fn pending_errors_do_not_panic_again_while_unwinding() {
        let mut errors = Errors::default();
        errors.push(error("pending"));
        // Unwinding drops `errors`; a second panic would abort the test binary.
        panic!("the first panic");
    }
}
