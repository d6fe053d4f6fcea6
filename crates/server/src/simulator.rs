//! The in-process Factus simulator of `--simulate-factus` (the sandbox crate), compiled in by the
//! default `simulator` feature. A production build leaves it out
//! (`cargo build --release --no-default-features`); there `--simulate-factus` stops the start-up
//! with an error saying so, instead of quietly talking to the real Factus.

use factus_infrastructure::factus::FactusGatewayConfig;

/// A running simulator. Without the `simulator` feature the type has no values: every use of it
/// is dead code the compiler can see, behind [`Simulator::start`]'s error.
pub struct Simulator {
    #[cfg(feature = "simulator")]
    sandbox: factus_sandbox::Sandbox,
    #[cfg(not(feature = "simulator"))]
    never: std::convert::Infallible,
}

impl Simulator {
    /// Starts the simulator on a free local port.
    ///
    /// # Errors
    /// When it cannot listen, or when this build was made without the `simulator` feature.
    #[cfg(feature = "simulator")]
    pub async fn start() -> anyhow::Result<Self> {
        use anyhow::Context as _;
        let sandbox = factus_sandbox::Sandbox::start(factus_sandbox::SandboxConfig::default())
            .await
            .context("could not start the Factus simulator")?;
        tracing::info!(url = %sandbox.base_url(), "Factus simulator started (--simulate-factus)");
        Ok(Self { sandbox })
    }

    /// Starts the simulator on a free local port.
    ///
    /// # Errors
    /// Always: this build was made without the `simulator` feature.
    #[cfg(not(feature = "simulator"))]
    pub async fn start() -> anyhow::Result<Self> {
        anyhow::bail!(
            "--simulate-factus is not available: this binary was built without the Factus simulator \
             (cargo feature `simulator`, on by default); use a development build, or point \
             FACTUS_BASE_URL at Factus"
        )
    }

    /// The gateway's configuration against the simulator: its address and default credentials,
    /// with a server session so `X-Factus-Token` is optional offline.
    #[must_use]
    pub fn gateway_config(&self) -> FactusGatewayConfig {
        #[cfg(feature = "simulator")]
        {
            use secrecy::SecretString;
            FactusGatewayConfig::new(
                self.sandbox.base_url(),
                factus_sandbox::DEFAULT_CLIENT_ID,
                SecretString::from(factus_sandbox::DEFAULT_CLIENT_SECRET),
            )
            .with_server_credentials(
                factus_sandbox::DEFAULT_USERNAME,
                SecretString::from(factus_sandbox::DEFAULT_PASSWORD),
            )
        }
        #[cfg(not(feature = "simulator"))]
        match self.never {}
    }

    /// Stops the simulator.
    pub async fn shutdown(self) {
        #[cfg(feature = "simulator")]
        self.sandbox.shutdown().await;
        #[cfg(not(feature = "simulator"))]
        match self.never {}
    }
}
