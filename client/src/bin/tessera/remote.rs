//! `tessera panels` and `tessera click`: the client library against a running host.

use std::time::Duration;

use serde_json::Value;
use tessera_client::{Client, Panels, default_input, demo_panels_path};
use tessera_protocol::{Clock as _, SystemClock};

use crate::failure::{Failure, note, print};
use crate::{json, safe, time};

/// List a plugin's panels and buttons from a running host.
#[derive(Debug, clap::Args)]
pub(crate) struct PanelsArgs {
    /// The host's base URL, e.g. http://127.0.0.1:8080 (plain HTTP only).
    url: String,
    /// The plugin whose panels to list.
    #[arg(long)]
    plugin: String,
    /// The user to ask as (sent as the X-Demo-User header). Default: none (the host's guest).
    #[arg(long)]
    user: Option<String>,
    /// How long each request to the host may take, connect to last byte (e.g. 5s, 1m); at
    /// least one second.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = request_timeout)]
    timeout: Duration,
    /// Print the host's JSON document (tokens included) instead of a summary. A failure is
    /// then a JSON object with code and message on stdout (exit 1).
    #[arg(long)]
    json: bool,
}

/// Click a plugin's button on a running host and print the action's JSON result.
#[derive(Debug, clap::Args)]
pub(crate) struct ClickArgs {
    /// The host's base URL, e.g. http://127.0.0.1:8080 (plain HTTP only).
    url: String,
    /// The plugin the button belongs to.
    #[arg(long)]
    plugin: String,
    /// The action id of the button to click.
    #[arg(long)]
    action: String,
    /// The user's input, as JSON. Default: what the host's page sends when the panel's input
    /// fields are left as rendered (each field's declared value, "" for a field without one; no
    /// input for a panel without fields); the members of a JSON object given here replace
    /// them, any other JSON value is sent as is.
    #[arg(long, value_name = "JSON")]
    input: Option<String>,
    /// The user to click as (sent as the X-Demo-User header). Default: none (the host's guest).
    #[arg(long)]
    user: Option<String>,
    /// If the click comes back `expired`, fetch the panel again and retry once.
    #[arg(long)]
    retry_expired: bool,
    /// How long each request to the host may take, connect to last byte (e.g. 5s, 1m); at
    /// least one second.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = request_timeout)]
    timeout: Duration,
}

/// `--timeout`: a duration of at least one second (0 would fail every request at once).
fn request_timeout(text: &str) -> Result<Duration, String> {
    let timeout = time::parse_duration(text)?;
    if timeout.is_zero() {
        return Err("the timeout is at least 1s".to_owned());
    }
    Ok(timeout)
}

fn client(
    url: &str,
    user: Option<&str>,
    retry_expired: bool,
    timeout: Duration,
) -> Result<Client, Failure> {
    let mut builder = Client::builder(url)
        .retry_expired(retry_expired)
        .timeout(timeout);
    if let Some(user) = user {
        builder = builder.user(user);
    }
    Ok(builder.build()?)
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::io(format!("cannot start the async runtime: {e}")))
}

pub(crate) fn panels(args: &PanelsArgs) -> Result<(), Failure> {
    let outcome = panels_of(args);
    if args.json {
        outcome.map_err(Failure::into_json)
    } else {
        outcome
    }
}

fn panels_of(args: &PanelsArgs) -> Result<(), Failure> {
    let client = client(&args.url, args.user.as_deref(), false, args.timeout)?;
    let panels = runtime()?.block_on(client.panels(&demo_panels_path(&args.plugin)))?;
    if args.json {
        return print(&safe::json(&panels.raw));
    }
    print(&summary(&panels, SystemClock.now()))
}

fn summary(panels: &Panels, now: u64) -> String {
    let mut lines = vec![match &panels.worker {
        Some(worker) => format!(
            "plugin {} (rendered by worker {worker})",
            panels.document.plugin
        ),
        None => format!("plugin {}", panels.document.plugin),
    }];
    for panel in &panels.document.panels {
        lines.push(format!("  panel {}: {}", panel.key, panel.title));
        for field in &panel.fields {
            let mut line = format!(
                "    input {} ({}): {}",
                field.name,
                field.kind.as_str(),
                field.label
            );
            if let Some(value) = &field.value {
                line.push_str(&format!(" [default {value}]"));
            }
            lines.push(line);
        }
        for b in &panel.buttons {
            let expiry = if b.expires_at > now {
                format!("expires in {}", time::human(b.expires_at - now))
            } else {
                format!("expired {} ago", time::human(now - b.expires_at))
            };
            lines.push(format!(
                "    [{}] action {} -> {} {} ({expiry})",
                b.label, b.action, b.method, b.url
            ));
        }
    }
    // Every line may carry the host's text (names, titles, labels): escape its controls.
    lines
        .iter()
        .map(|line| safe::text(line))
        .collect::<Vec<_>>()
        .join("\n")
}

pub(crate) fn click(args: &ClickArgs) -> Result<(), Failure> {
    let given: Option<Value> = match &args.input {
        None => None,
        Some(text) => Some(json::parse_given(text, "the --input value", "bad_input")?),
    };
    let client = client(
        &args.url,
        args.user.as_deref(),
        args.retry_expired,
        args.timeout,
    )?;
    let clicked = runtime()?.block_on(async {
        let panels = client.panels(&demo_panels_path(&args.plugin)).await?;
        let (button, panel) = panels.find(&args.action)?;
        let input = match given {
            Some(Value::Object(members)) => {
                let mut input = default_input(panel);
                input.extend(members);
                Value::Object(input)
            }
            Some(other) => other,
            // The page sends no input for a panel without fields; null means the same.
            None if panel.fields.is_empty() => Value::Null,
            None => Value::Object(default_input(panel)),
        };
        client
            .click(button)
            .input(&input)
            .refresh_from(panels.url.as_str())
            .send()
            .await
    })?;
    if clicked.retried {
        note("note: the panel's token had expired; clicked again with a fresh panel");
    }
    print(&safe::json(&clicked.result))
}
