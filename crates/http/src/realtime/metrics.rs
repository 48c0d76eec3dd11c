//! The realtime instruments: connections open now, and messages each way by type. Types are
//! the protocol's fixed names (an unparseable message counts as `invalid`), so the series stay
//! bounded whatever clients send.

use prometheus::{IntCounterVec, IntGauge, Opts, Registry};

#[derive(Clone)]
pub(crate) struct WsMetrics {
    pub(crate) connections: IntGauge,
    pub(crate) received: IntCounterVec,
    pub(crate) sent: IntCounterVec,
}

impl WsMetrics {
    pub(crate) fn new() -> Result<Self, prometheus::Error> {
        Ok(Self {
            connections: IntGauge::new(
                "accueil_ws_connections",
                "WebSocket connections open now (authenticated or still authenticating)",
            )?,
            received: IntCounterVec::new(
                Opts::new(
                    "accueil_ws_messages_received_total",
                    "WebSocket messages received from clients, by action (`invalid` when unparseable)",
                ),
                &["type"],
            )?,
            sent: IntCounterVec::new(
                Opts::new(
                    "accueil_ws_messages_sent_total",
                    "WebSocket messages sent to clients, by type",
                ),
                &["type"],
            )?,
        })
    }

    pub(crate) fn register(&self, registry: &Registry) -> Result<(), prometheus::Error> {
        registry.register(Box::new(self.connections.clone()))?;
        registry.register(Box::new(self.received.clone()))?;
        registry.register(Box::new(self.sent.clone()))
    }
}
