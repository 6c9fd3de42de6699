#!/usr/bin/env bash
# Builds the registry packages of this version into dist/ (or $DIST_DIR):
#   terraform-provider-treeherder_<version>_<os>_<arch>.zip  (binary terraform-provider-treeherder_v<version>[.exe])
#   terraform-provider-treeherder_<version>_manifest.json     (protocol version 6.0)
#   terraform-provider-treeherder_<version>_SHA256SUMS        (every zip and the manifest)
#   terraform-provider-treeherder_<version>_SHA256SUMS.sig    (detached binary GPG signature)
# The version is the workspace's (Cargo.toml), which `--version` prints too.
#
# Signing key, from the environment (one of):
#   GPG_PRIVATE_KEY   an ASCII-armored secret key, imported into a throwaway GNUPGHOME
#                     (GPG_PASSPHRASE if it has one)
#   GPG_FINGERPRINT   a key of the caller's own keyring (GNUPGHOME or ~/.gnupg)
#
# The binaries, one of:
#   RELEASE_BINARIES_DIR=dir  every platform built elsewhere (.github/workflows/release.yml):
#                             dir/<platform>/terraform-provider-treeherder[.exe], <platform> one
#                             of linux_amd64 linux_arm64 darwin_amd64 darwin_arm64 windows_amd64
#   RELEASE_BINARY=path       that binary for this host's platform (the tests use the debug build
#                             they already have; the package layout is the same)
#   neither                   the release profile built here, for this host's platform only
# This machine cannot cross-compile: other platforms come only from the release workflow.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

NAME=terraform-provider-treeherder
DIST="${DIST_DIR:-$ROOT/dist}"
VERSION="$(workspace_version)"
[[ "$VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]] || die "no version found in $ROOT/Cargo.toml"
grep -q "^## \[$VERSION\]" "$ROOT/CHANGELOG.md" || die "CHANGELOG.md has no '## [$VERSION]' entry"

case "$(uname -s)_$(uname -m)" in
    Linux_x86_64) HOST_PLATFORM=linux_amd64 ;;
    Linux_aarch64) HOST_PLATFORM=linux_arm64 ;;
    Darwin_x86_64) HOST_PLATFORM=darwin_amd64 ;;
    Darwin_arm64) HOST_PLATFORM=darwin_arm64 ;;
    *) HOST_PLATFORM="" ;;
esac
PLATFORMS=(linux_amd64 linux_arm64 darwin_amd64 darwin_arm64 windows_amd64)

if [[ -z "${GPG_PRIVATE_KEY:-}" && -z "${GPG_FINGERPRINT:-}" ]]; then
    die "no signing key: set GPG_PRIVATE_KEY (armored secret key) or GPG_FINGERPRINT (a key of your keyring)"
fi

# platform -> binary to package.
declare -A BINARIES=()
if [[ -n "${RELEASE_BINARIES_DIR:-}" ]]; then
    [[ -d "$RELEASE_BINARIES_DIR" ]] || die "RELEASE_BINARIES_DIR=$RELEASE_BINARIES_DIR is not a directory"
    for entry in "$RELEASE_BINARIES_DIR"/*; do
        platform="$(basename "$entry")"
        [[ " ${PLATFORMS[*]} " == *" $platform "* ]] \
            || die "$entry: not a platform; expected one of ${PLATFORMS[*]}"
        exe=""
        [[ "$platform" == windows_* ]] && exe=".exe"
        [[ -f "$entry/$NAME$exe" ]] || die "$entry holds no $NAME$exe"
        BINARIES[$platform]="$entry/$NAME$exe"
    done
    ((${#BINARIES[@]} > 0)) || die "$RELEASE_BINARIES_DIR holds no platform directory"
else
    [[ -n "$HOST_PLATFORM" ]] || die "unsupported platform $(uname -s) $(uname -m)"
    if [[ -n "${RELEASE_BINARY:-}" ]]; then
        BINARIES[$HOST_PLATFORM]="$RELEASE_BINARY"
    else
        log "building the release binary"
        cargo build --release --locked -p "$NAME" --bin "$NAME" --manifest-path "$ROOT/Cargo.toml"
        BINARIES[$HOST_PLATFORM]="${CARGO_TARGET_DIR:-$ROOT/target}/release/$NAME"
    fi
fi

# The executable format and CPU a platform's binary must have, from its first bytes: a binary
# uploaded under the wrong platform is refused rather than published.
#   ELF: magic 7f454c46, e_machine (offset 18, LE) 3e00 x86-64 / b700 aarch64
#   Mach-O 64-bit: magic cffaedfe, cputype (offset 4, LE) 07000001 x86-64 / 0c000001 arm64
#   PE: "MZ" (4d5a) only: its machine type sits behind a variable offset
expected_header() {
    case "$1" in
        linux_amd64) echo "7f454c46 18:3e00" ;;
        linux_arm64) echo "7f454c46 18:b700" ;;
        darwin_amd64) echo "cffaedfe 4:07000001" ;;
        darwin_arm64) echo "cffaedfe 4:0c000001" ;;
        windows_amd64) echo "4d5a" ;;
    esac
}
hex_at() { od -An -tx1 -j "$2" -N "$3" "$1" | tr -d ' \n'; }
check_binary() {
    local platform="$1" binary="$2" magic field offset want
    read -r magic field <<<"$(expected_header "$platform")"
    [[ "$(hex_at "$binary" 0 $((${#magic} / 2)))" == "$magic" ]] \
        || die "$binary is not a $platform executable (wrong file format)"
    if [[ -n "${field:-}" ]]; then
        offset="${field%%:*}" want="${field#*:}"
        [[ "$(hex_at "$binary" "$offset" $((${#want} / 2)))" == "$want" ]] \
            || die "$binary is not a $platform executable (wrong CPU type)"
    fi
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$DIST"
rm -f "$DIST/${NAME}_${VERSION}_"*

# A fixed timestamp (the last commit's, or SOURCE_DATE_EPOCH) makes each zip, and so its zh:
# hash, the same for the same binary.
epoch="${SOURCE_DATE_EPOCH:-$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || echo 315532800)}"
zips=()
for platform in "${PLATFORMS[@]}"; do
    [[ -n "${BINARIES[$platform]:-}" ]] || continue
    binary="${BINARIES[$platform]}"
    [[ -f "$binary" ]] || die "$binary ($platform) does not exist"
    check_binary "$platform" "$binary"
    exe=""
    [[ "$platform" == windows_* ]] && exe=".exe"
    staged="$work/$platform/${NAME}_v${VERSION}$exe"
    mkdir -p "$work/$platform"
    # Artifacts lose their mode in transit (actions/upload-artifact): set it here.
    cp "$binary" "$staged"
    chmod 0755 "$staged"
    # Only a binary of this machine's platform can run here to report its version.
    if [[ "$platform" == "$HOST_PLATFORM" ]]; then
        printed="$("$staged" --version)"
        [[ "$printed" == "$NAME $VERSION" ]] || die "$binary --version prints '$printed', expected '$NAME $VERSION'"
    fi
    touch -d "@$epoch" "$staged"
    zip_file="${NAME}_${VERSION}_${platform}.zip"
    # -X: no extra file attributes (uid, times beyond the DOS ones), -j: the binary at the top.
    (cd "$work/$platform" && zip -q -X -j "$DIST/$zip_file" "${NAME}_v${VERSION}$exe")
    zips+=("$zip_file")
done

manifest="${NAME}_${VERSION}_manifest.json"
printf '{\n  "version": 1,\n  "metadata": {\n    "protocol_versions": ["6.0"]\n  }\n}\n' >"$DIST/$manifest"

sums="${NAME}_${VERSION}_SHA256SUMS"
(cd "$DIST" && sha256sum "${zips[@]}" "$manifest" >"$sums")

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
