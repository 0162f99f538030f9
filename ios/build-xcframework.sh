#!/usr/bin/env bash
# Builds the Rust core for iOS devices, the iOS simulator (arm64 + x86_64) and macOS (for the
# XCTest run on macOS CI), packs the static libraries with the generated C header and module map
# into build/CountersignCoreFFI.xcframework, and writes the Swift bindings into
# Sources/CountersignCore. Needs Xcode (xcodebuild, lipo); uses the root uniffi.toml.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/.."
profile="${PROFILE:-release}"
targets=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios aarch64-apple-darwin x86_64-apple-darwin)
rustup target add "${targets[@]}"
cd "$root"
for target in "${targets[@]}"; do
  cargo build --profile "$profile" --target "$target" -p countersign-ffi
done
generated="$here/build/generated"
rm -rf "$generated" "$here/build/CountersignCoreFFI.xcframework" "$here/Sources/CountersignCore"
mkdir -p "$generated/include" "$here/Sources/CountersignCore"
cargo run -q -p uniffi-bindgen -- generate \
  --library "target/aarch64-apple-darwin/$profile/libcountersign_ffi.dylib" \
  --language swift --no-format --config uniffi.toml --out-dir "$generated"
mv "$generated/CountersignCore.swift" "$here/Sources/CountersignCore/"
cp "$generated/CountersignCoreFFI.h" "$generated/include/"
# The module map must be named module.modulemap inside the framework's headers.
cp "$generated/CountersignCoreFFI.modulemap" "$generated/include/module.modulemap"
lib() { echo "target/$1/$profile/libcountersign_ffi.a"; }
mkdir -p "$generated/sim" "$generated/macos"
lipo -create "$(lib aarch64-apple-ios-sim)" "$(lib x86_64-apple-ios)" -output "$generated/sim/libcountersign_ffi.a"
lipo -create "$(lib aarch64-apple-darwin)" "$(lib x86_64-apple-darwin)" -output "$generated/macos/libcountersign_ffi.a"
xcodebuild -create-xcframework \
  -library "$(lib aarch64-apple-ios)" -headers "$generated/include" \
  -library "$generated/sim/libcountersign_ffi.a" -headers "$generated/include" \
  -library "$generated/macos/libcountersign_ffi.a" -headers "$generated/include" \
  -output "$here/build/CountersignCoreFFI.xcframework"
echo "ios: build/CountersignCoreFFI.xcframework and Sources/CountersignCore/CountersignCore.swift"
