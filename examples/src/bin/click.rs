//! Lists a plugin's buttons, then clicks one, the way a front end would.
//!
//! Start the demo host, then run this example against it:
//!
//! ```text
//! cargo run -p tessera-demo -- --bind 127.0.0.1:8080 &           # the demo plugin host
//! cargo run -p tessera-examples --bin click -- http://127.0.0.1:8080 alice
//! ```
//!
//! Arguments: `URL [USER] [ACTION] [INPUT_JSON]`; defaults: user `guest`, the transfer action,
//! input `{"qty": 5}`. The click is retried once with a fresh panel if its token has expired.

use std::process::ExitCode;

use serde_json::{Value, json};
use tessera_client::{Client, ClientError, demo_panels_path};
use tessera_protocol::ErrorCode;
use tessera_protocol::wire::Code;

const PLUGIN: &str = "stock-tools";
const DEFAULT_ACTION: &str = "plugin:stock-tools/action:transfer";

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(url) = args.first() else {
        eprintln!("usage: click URL [USER] [ACTION] [INPUT_JSON]");
        return ExitCode::from(2);
    };
    let user = args.get(1).map_or("guest", String::as_str);
    let action = args.get(2).map_or(DEFAULT_ACTION, String::as_str);
    let input: Value = match args.get(3) {
        None => json!({"qty": 5}),
        Some(text) => match serde_json::from_str(text) {
            Ok(input) => input,
            Err(e) => {
                eprintln!("error: INPUT_JSON is not JSON ({e})");
                return ExitCode::from(2);
            }
        },
    };
    match run(url, user, action, &input).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}: {e}", e.machine_code());
            ExitCode::FAILURE
        }
    }
}

async fn run(url: &str, user: &str, action: &str, input: &Value) -> Result<(), ClientError> {
    let client = Client::builder(url)
        .user(user)
        .retry_expired(true)
        .build()?;

    // The demo host serves a plugin's panels at api/plugins/{plugin}/panels.
    let panels = client.panels(&demo_panels_path(PLUGIN)).await?;
    println!(
        "{} panels of {PLUGIN}, rendered by {}:",
        panels.document.panels.len(),
        panels.worker.as_deref().unwrap_or("?")
    );
    for panel in &panels.document.panels {
        println!("  {}", panel.title);
        for button in &panel.buttons {
            println!("    [{}] {}", button.label, button.action);
        }
    }

    let (button, _panel) = panels.find(action)?;
    println!("clicking [{}] as {user} with {input}", button.label);
    match client
        .click(button)
        .input(input)
        .refresh_from(panels.url.as_str())
        .send()
        .await
    {
        Ok(clicked) => {
            if clicked.retried {
                println!("(the token had expired; clicked again with a fresh panel)");
            }
            println!(
                "handled by {}: {:#}",
                clicked.worker.as_deref().unwrap_or("?"),
                clicked.result
            );
            Ok(())
        }
        // A typed code, not a string to parse.
        Err(e) if e.code().is_some_and(|c| *c == ErrorCode::WrongSubject) => {
            println!("this button was rendered for another user");
            Err(e)
        }
        Err(e) if e.code().is_some_and(|c| *c == Code::BadInput) => {
            println!("the action refused the input: {e}");
            Err(e)
        }
        Err(e) => Err(e),
    }
}
