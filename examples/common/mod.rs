//! What the examples share.

/// Piping an example into `head` closes its standard output early; `println!`
/// then panics with "Broken pipe". This makes the program stop quietly instead,
/// as command-line tools do, and leaves every other panic as it was.
pub fn quiet_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info);
    }));
}
