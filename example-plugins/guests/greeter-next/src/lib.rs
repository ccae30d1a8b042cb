//! The `greeter-next` example plugin: version 0.2.0 of the greeter
//! interface (`example_interfaces::GreeterNext`).

use example_interfaces::GreeterNext;

#[derive(Default)]
struct Cheerful;

impl GreeterNext for Cheerful {
    fn greet(&self, name: String) -> String {
        format!("Hi, {name}!")
    }

    fn greet_all(&self, names: Vec<String>) -> Vec<String> {
        names.into_iter().map(|name| self.greet(name)).collect()
    }
}

wasm_sandbox_guest::export!(Cheerful: example_interfaces::GreeterNext);
