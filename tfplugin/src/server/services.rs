//! go-plugin's side services: controller (Shutdown), stdio and broker.

use std::pin::Pin;
use std::sync::Arc;

use futures::{Stream, StreamExt};
use tokio::sync::watch;
use tonic::{Request, Response, Status, Streaming};

use crate::proto::plugin::grpc_broker_server::GrpcBroker;
use crate::proto::plugin::grpc_controller_server::GrpcController;
use crate::proto::plugin::grpc_stdio_server::GrpcStdio;
use crate::proto::plugin::{ConnInfo, Empty, StdioData};

/// A one-way latch telling every part of the server to stop.
#[derive(Clone, Debug)]
pub(crate) struct ShutdownSignal {
    sender: Arc<watch::Sender<bool>>,
}

impl ShutdownSignal {
    pub(crate) fn new() -> Self {
        let (sender, _) = watch::channel(false);
        ShutdownSignal {
            sender: Arc::new(sender),
        }
    }

    pub(crate) fn trigger(&self) {
        self.sender.send_replace(true);
    }

    /// Resolves once [`ShutdownSignal::trigger`] has been called (at once if it already was).
    pub(crate) async fn triggered(&self) {
        let mut receiver = self.sender.subscribe();
        // Cannot fail: `self` keeps a sender alive.
        let _ = receiver.wait_for(|stopped| *stopped).await;
    }

    /// An empty stream that stays open until shutdown. Open streams would
    /// otherwise hold up the server's graceful stop.
    fn stream_until<T: Send + 'static>(&self) -> BoxStream<T> {
        let signal = self.clone();
        Box::pin(
            futures::stream::once(async move { signal.triggered().await })
                .filter_map(|()| async { None }),
        )
    }
}

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

/// `plugin.GRPCController`: Terraform's way of saying it is done with us.
pub(crate) struct Controller {
    pub(crate) shutdown: ShutdownSignal,
}

#[tonic::async_trait]
impl GrpcController for Controller {
    async fn shutdown(&self, _request: Request<Empty>) -> Result<Response<Empty>, Status> {
        // The server stops gracefully, so this response is still delivered.
        self.shutdown.trigger();
        Ok(Response::new(Empty {}))
    }
}

/// `plugin.GRPCStdio`: we log to stderr directly, so the stream carries nothing.
pub(crate) struct Stdio {
    pub(crate) shutdown: ShutdownSignal,
}

#[tonic::async_trait]
impl GrpcStdio for Stdio {
    async fn stream_stdio(
        &self,
        _request: Request<()>,
    ) -> Result<Response<BoxStream<StdioData>>, Status> {
        Ok(Response::new(self.shutdown.stream_until()))
    }
}

/// `plugin.GRPCBroker`: providers never broker extra connections; the stream
/// is accepted and left idle so the host does not log errors.
pub(crate) struct Broker {
    pub(crate) shutdown: ShutdownSignal,
}

#[tonic::async_trait]
impl GrpcBroker for Broker {
    async fn start_stream(
        &self,
        _request: Request<Streaming<ConnInfo>>,
    ) -> Result<Response<BoxStream<ConnInfo>>, Status> {
        Ok(Response::new(self.shutdown.stream_until()))
    }
}
