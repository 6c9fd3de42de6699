//! Provider-defined functions over the protocol: their signatures and calls.

use std::panic::AssertUnwindSafe;

use crate::framework::Provider;
use crate::function::{Arguments, FunctionError};
use crate::proto::tfplugin6 as pb;

use super::convert::*;
use super::ProviderService;

impl<P: Provider> ProviderService<P> {
    pub(super) fn functions_pb(&self) -> std::collections::HashMap<String, pb::Function> {
        self.inner
            .functions
            .iter()
            .map(|(name, f)| (name.to_string(), function_pb(&f.signature())))
            .collect()
    }

    /// Decodes the arguments against the signature, calls, encodes the result. A panic in
    /// the function becomes its error, as for the other RPCs.
    pub(super) fn call(
        &self,
        request: &pb::call_function::Request,
    ) -> Result<pb::DynamicValue, FunctionError> {
        let function = self
            .inner
            .functions
            .get(request.name.as_str())
            .ok_or_else(|| {
                FunctionError::new(format!("this provider has no function {:?}", request.name))
            })?;
        let signature = function.signature();
        if request.arguments.len() != signature.parameters.len() {
            return Err(FunctionError::new(format!(
                "{} takes {} argument(s), got {}",
                request.name,
                signature.parameters.len(),
                request.arguments.len()
            )));
        }
        let mut arguments = Vec::with_capacity(request.arguments.len());
        for (position, (value, parameter)) in request
            .arguments
            .iter()
            .zip(&signature.parameters)
            .enumerate()
        {
            let decoded = decode(Some(value), &parameter.ty).map_err(|d| {
                FunctionError::at(
                    position,
                    d.iter()
                        .map(|d| d.detail.clone())
                        .collect::<Vec<_>>()
                        .join("; "),
                )
            })?;
            arguments.push((decoded, parameter.ty.clone()));
        }
        let arguments = Arguments::new(arguments);
        let result = std::panic::catch_unwind(AssertUnwindSafe(|| function.call_value(&arguments)))
            .unwrap_or_else(|_| {
                Err(FunctionError::new(format!(
                    "{} panicked (provider bug)",
                    request.name
                )))
            })?;
        encode(&result, &signature.returns).map_err(|d| {
            FunctionError::new(
                d.iter()
                    .map(|d| d.detail.clone())
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })
    }
}
