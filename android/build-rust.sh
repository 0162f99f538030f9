#!/usr/bin/env bash
# Builds libcountersign_ffi.so for the Android ABIs with cargo-ndk (ANDROID_NDK_HOME must point
# to an NDK, r27 or later) and generates the Kotlin bindings from it with the root uniffi.toml.
# Linked with 16 KB page alignment, which Android 15+ devices with 16 KB pages require.
# Output: build/generated/jniLibs/<abi>/ and build/generated/uniffi/kotlin/ (read by build.gradle.kts).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/.."
profile="${PROFILE:-release}"
command -v cargo-ndk >/dev/null || cargo install cargo-ndk --locked
rustup target add aarch64-linux-android armv7-linux-androideabi x86_64-linux-android
export RUSTFLAGS="${RUSTFLAGS:-} -C link-arg=-Wl,-z,max-page-size=16384"
cd "$root"
cargo ndk -t arm64-v8a -t armeabi-v7a -t x86_64 --platform 28 \
  -o "$here/build/generated/jniLibs" build --profile "$profile" -p countersign-ffi
# Bindings come from the host build of the same sources (metadata is identical per target).
cargo build --profile "$profile" -p countersign-ffi
rm -rf "$here/build/generated/uniffi/kotlin"
cargo run -q -p uniffi-bindgen -- generate --library "target/$profile/libcountersign_ffi.so" \
  --language kotlin --no-format --config uniffi.toml --out-dir "$here/build/generated/uniffi/kotlin"
echo "android: jniLibs and Kotlin bindings generated under $here/build/generated"
