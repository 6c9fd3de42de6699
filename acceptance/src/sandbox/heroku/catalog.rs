//! Fixed catalogs: dyno sizes, regions and stacks, with stable ids.

use serde_json::{json, Value};
use uuid::Uuid;

use crate::sandbox::seed::{seed_id, KIND_CATALOG};

/// A dyno size: name, compute units, memory (GB), dedicated, cents per month.
pub struct DynoSize {
    pub name: &'static str,
    pub compute: i64,
    pub memory: f64,
    pub dedicated: bool,
    pub cents: i64,
    pub private_space_only: bool,
}

/// Cedar dyno sizes, in Heroku's capitalisation.
pub const DYNO_SIZES: &[DynoSize] = &[
    DynoSize {
        name: "Free",
        compute: 1,
        memory: 0.5,
        dedicated: false,
        cents: 0,
        private_space_only: false,
    },
    DynoSize {
        name: "Hobby",
        compute: 1,
        memory: 0.5,
        dedicated: false,
        cents: 700,
        private_space_only: false,
    },
    DynoSize {
        name: "Eco",
        compute: 1,
        memory: 0.5,
        dedicated: false,
        cents: 0,
        private_space_only: false,
    },
    DynoSize {
        name: "Basic",
        compute: 1,
        memory: 0.5,
        dedicated: false,
        cents: 700,
        private_space_only: false,
    },
    DynoSize {
        name: "Standard-1X",
        compute: 1,
        memory: 0.5,
        dedicated: false,
        cents: 2500,
        private_space_only: false,
    },
    DynoSize {
        name: "Standard-2X",
        compute: 4,
        memory: 1.0,
        dedicated: false,
        cents: 5000,
        private_space_only: false,
    },
    DynoSize {
        name: "Performance-M",
        compute: 12,
        memory: 2.5,
        dedicated: true,
        cents: 25000,
        private_space_only: false,
    },
    DynoSize {
        name: "Performance-L",
        compute: 50,
        memory: 14.0,
        dedicated: true,
        cents: 50000,
        private_space_only: false,
    },
    DynoSize {
        name: "Private-S",
        compute: 12,
        memory: 1.0,
        dedicated: true,
        cents: 0,
        private_space_only: true,
    },
    DynoSize {
        name: "Private-M",
        compute: 12,
        memory: 2.5,
        dedicated: true,
        cents: 0,
        private_space_only: true,
    },
    DynoSize {
        name: "Private-L",
        compute: 50,
        memory: 14.0,
        dedicated: true,
        cents: 0,
        private_space_only: true,
    },
    DynoSize {
        name: "Shield-S",
        compute: 12,
        memory: 1.0,
        dedicated: true,
        cents: 0,
        private_space_only: true,
    },
    DynoSize {
        name: "Shield-M",
        compute: 12,
        memory: 2.5,
        dedicated: true,
        cents: 0,
        private_space_only: true,
    },
    DynoSize {
        name: "Shield-L",
        compute: 50,
        memory: 14.0,
        dedicated: true,
        cents: 0,
        private_space_only: true,
    },
];

/// Stable id of the dyno size at `index`.
pub fn dyno_size_id(index: usize) -> Uuid {
    seed_id(KIND_CATALOG, 1 + index as u64)
}

/// Finds a size by id or (case-insensitive) name; returns its index.
pub fn find_dyno_size(ident: &str) -> Option<usize> {
    DYNO_SIZES.iter().enumerate().position(|(i, s)| {
        s.name.eq_ignore_ascii_case(ident)
            || dyno_size_id(i).to_string().eq_ignore_ascii_case(ident)
    })
}

/// Canonical name for a size given by id or name.
pub fn canonical_size(ident: &str) -> Option<&'static str> {
    find_dyno_size(ident).map(|i| DYNO_SIZES[i].name)
}

/// `{id, name}` reference for a canonical size name.
pub fn dyno_size_ref(name: &str) -> Value {
    match find_dyno_size(name) {
        Some(i) => json!({ "id": dyno_size_id(i), "name": DYNO_SIZES[i].name }),
        None => json!({ "id": null, "name": name }),
    }
}

/// The dyno-size resource.
pub fn dyno_size_json(index: usize) -> Value {
    let s = &DYNO_SIZES[index];
    json!({
        "architecture": "amd64",
        "compute": s.compute,
        "cost": { "cents": s.cents, "unit": "month" },
        "dedicated": s.dedicated,
        "generation": { "id": seed_id(KIND_CATALOG, 300), "name": "cedar" },
        "id": dyno_size_id(index),
        "memory": s.memory,
        "name": s.name,
        "precise_dyno_units": f64::from(i32::try_from(s.compute).unwrap_or(1)),
        "private_space_only": s.private_space_only,
    })
}

/// Regions: (name, id).
pub fn region_ref(name: &str) -> Value {
    let n = match name {
        "eu" => 2,
        _ => 1,
    };
    json!({ "id": seed_id(KIND_CATALOG, 400 + n), "name": name })
}

/// Known regions.
pub const REGIONS: &[&str] = &["us", "eu"];

/// Known stacks.
pub const STACKS: &[&str] = &[
    "heroku-18",
    "heroku-20",
    "heroku-22",
    "heroku-24",
    "container",
];

/// `{id, name}` reference for a stack.
pub fn stack_ref(name: &str) -> Value {
    let n = STACKS.iter().position(|s| *s == name).unwrap_or(0) as u64;
    json!({ "id": seed_id(KIND_CATALOG, 500 + n), "name": name })
}

/// Resolves a stack given by id or name.
pub fn find_stack(ident: &str) -> Option<&'static str> {
    STACKS.iter().enumerate().find_map(|(i, s)| {
        (*s == ident || seed_id(KIND_CATALOG, 500 + i as u64).to_string() == ident).then_some(*s)
    })
}

/// Resolves a region given by id or name.
pub fn find_region(ident: &str) -> Option<&'static str> {
    REGIONS.iter().enumerate().find_map(|(i, r)| {
        (*r == ident || seed_id(KIND_CATALOG, 401 + i as u64).to_string() == ident).then_some(*r)
    })
}

/// The Cedar generation reference used by apps and pipelines.
pub fn generation_ref() -> Value {
    json!({ "id": seed_id(KIND_CATALOG, 300), "name": "cedar" })
}
