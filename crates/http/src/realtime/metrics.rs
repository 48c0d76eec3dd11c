//! The realtime instruments: connections open now, and messages each way by type. Types are
//! the protocol's fixed names (an unparseable message counts as `invalid`), so the series stay
//! bounded whatever clients send.

use prometheus::{IntCounter, IntCounterVec, IntGauge, Opts, Registry};

#[derive(Clone)]
pub(crate) struct WsMetrics {
    pub(crate) connections: IntGauge,
    pub(crate) received: IntCounterVec,
    pub(crate) sent: IntCounterVec,
    pub(crate) dropped: IntCounter,
    pub(crate) resyncs: IntCounter,
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
            dropped: IntCounter::new(
                "accueil_ws_signals_dropped_total",
                "Signals a connection's full buffer could not take (the connection resynchronises)",
            )?,
            resyncs: IntCounter::new(
                "accueil_ws_resyncs_total",
                "Resynchronisations of connections (re-check, then `resync` to the client)",
            )?,
        })
    }

    pub(crate) fn register(&self, registry: &Registry) -> Result<(), prometheus::Error> {
        registry.register(Box::new(self.connections.clone()))?;
        registry.register(Box::new(self.received.clone()))?;
        registry.register(Box::new(self.sent.clone()))?;
        registry.register(Box::new(self.dropped.clone()))?;
        registry.register(Box::new(self.resyncs.clone()))
    }
}
