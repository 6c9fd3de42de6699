#!/usr/bin/env bash
# Builds the registry packages of this version into dist/ (or $DIST_DIR):
#   terraform-provider-treeherder_<version>_linux_amd64.zip   (binary terraform-provider-treeherder_v<version>)
#   terraform-provider-treeherder_<version>_manifest.json     (protocol version 6.0)
#   terraform-provider-treeherder_<version>_SHA256SUMS        (the zip and the manifest)
#   terraform-provider-treeherder_<version>_SHA256SUMS.sig    (detached binary GPG signature)
# The version is the workspace's (Cargo.toml), which `--version` prints too.
#
# Signing key, from the environment (one of):
#   GPG_PRIVATE_KEY   an ASCII-armored secret key, imported into a throwaway GNUPGHOME
#                     (GPG_PASSPHRASE if it has one)
#   GPG_FINGERPRINT   a key of the caller's own keyring (GNUPGHOME or ~/.gnupg)
# RELEASE_BINARY=path packages that binary instead of building the release profile (the tests
# use the debug build they already have; the package layout is the same).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

NAME=terraform-provider-treeherder
DIST="${DIST_DIR:-$ROOT/dist}"
VERSION="$(workspace_version)"
[[ "$VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]] || die "no version found in $ROOT/Cargo.toml"
grep -q "^## \[$VERSION\]" "$ROOT/CHANGELOG.md" || die "CHANGELOG.md has no '## [$VERSION]' entry"

case "$(uname -s)_$(uname -m)" in
    Linux_x86_64) PLATFORM=linux_amd64 ;;
    Linux_aarch64) PLATFORM=linux_arm64 ;;
    Darwin_x86_64) PLATFORM=darwin_amd64 ;;
    Darwin_arm64) PLATFORM=darwin_arm64 ;;
    *) die "unsupported platform $(uname -s) $(uname -m)" ;;
esac

if [[ -z "${GPG_PRIVATE_KEY:-}" && -z "${GPG_FINGERPRINT:-}" ]]; then
    die "no signing key: set GPG_PRIVATE_KEY (armored secret key) or GPG_FINGERPRINT (a key of your keyring)"
fi

if [[ -n "${RELEASE_BINARY:-}" ]]; then
    BINARY="$RELEASE_BINARY"
else
    log "building the release binary"
    cargo build --release --locked -p "$NAME" --bin "$NAME" --manifest-path "$ROOT/Cargo.toml"
    BINARY="${CARGO_TARGET_DIR:-$ROOT/target}/release/$NAME"
fi
[[ -x "$BINARY" ]] || die "$BINARY is not an executable"
printed="$("$BINARY" --version)"
[[ "$printed" == "$NAME $VERSION" ]] || die "$BINARY --version prints '$printed', expected '$NAME $VERSION'"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$DIST"
rm -f "$DIST/${NAME}_${VERSION}_"*

cp "$BINARY" "$work/${NAME}_v${VERSION}"
chmod 0755 "$work/${NAME}_v${VERSION}"
# A fixed timestamp (the last commit's, or SOURCE_DATE_EPOCH) makes the zip, and so its zh:
# hash, the same for the same binary.
epoch="${SOURCE_DATE_EPOCH:-$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || echo 315532800)}"
touch -d "@$epoch" "$work/${NAME}_v${VERSION}"
zip_file="${NAME}_${VERSION}_${PLATFORM}.zip"
# -X: no extra file attributes (uid, times beyond the DOS ones), -j: the binary at the top.
(cd "$work" && zip -q -X -j "$DIST/$zip_file" "${NAME}_v${VERSION}")

manifest="${NAME}_${VERSION}_manifest.json"
printf '{\n  "version": 1,\n  "metadata": {\n    "protocol_versions": ["6.0"]\n  }\n}\n' >"$DIST/$manifest"

sums="${NAME}_${VERSION}_SHA256SUMS"
(cd "$DIST" && sha256sum "$zip_file" "$manifest" >"$sums")

gpg_args=(--batch --yes --pinentry-mode loopback)
if [[ -n "${GPG_PRIVATE_KEY:-}" ]]; then
    export GNUPGHOME="$work/gnupg"
    mkdir -m 0700 "$GNUPGHOME"
    printf '%s\n' "$GPG_PRIVATE_KEY" | gpg "${gpg_args[@]}" --quiet --import
    key="$(gpg --batch --list-secret-keys --with-colons | awk -F: '/^fpr:/ {print $10; exit}')"
else
    key="$GPG_FINGERPRINT"
fi
[[ -n "$key" ]] || die "the signing key could not be read"
if [[ -n "${GPG_PASSPHRASE:-}" ]]; then
    gpg_args+=(--passphrase-fd 0)
    printf '%s' "$GPG_PASSPHRASE" | gpg "${gpg_args[@]}" --local-user "$key" --detach-sign --output "$DIST/$sums.sig" "$DIST/$sums"
else
    gpg "${gpg_args[@]}" --passphrase '' --local-user "$key" --detach-sign --output "$DIST/$sums.sig" "$DIST/$sums"
fi
gpg --batch --armor --export "$key" >"$DIST/${NAME}_${VERSION}_signing-key.asc"

log "wrote $DIST:"
(cd "$DIST" && ls -1 "${NAME}_${VERSION}_"*) >&2
