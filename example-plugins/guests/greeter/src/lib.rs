//! The `greeter` example plugin (world `example:greeter/greeter` in
//! `wit/greeter/greeter.wit`).

wit_bindgen::generate!({
    path: "../../../wit/greeter",
    world: "greeter",
});

struct Greeter;

impl Guest for Greeter {
    fn greet(name: String) -> String {
        format!("Hello, {name}!")
    }
}

export!(Greeter);
