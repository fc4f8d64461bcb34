#![forbid(unsafe_code)]

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = sa_server::cli::Cli::parse();
    sa_server::serve::init_tracing(cli.log_format);
    match sa_server::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sa-server: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
