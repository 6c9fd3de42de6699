//! Compiles the wire definitions in `proto/` into Rust with protox (a pure
//! Rust protobuf compiler, so no `protoc` is needed) and tonic-prost-build.

use std::error::Error;

const PROTOS: [&str; 2] = ["proto/tfplugin6.proto", "proto/plugin.proto"];

fn main() -> Result<(), Box<dyn Error>> {
    for proto in PROTOS {
        println!("cargo:rerun-if-changed={proto}");
    }
    let descriptors = protox::compile(PROTOS, ["proto"])?;
    // Clients are generated too: the tests talk to the server the way Terraform does.
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        // RPCs we do not serve (ephemeral resources, functions, moves) answer Unimplemented.
        .generate_default_stubs(true)
        .compile_fds(descriptors)?;
    Ok(())
}
