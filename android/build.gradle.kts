// The Countersign Android library (AAR): generated uniffi bindings, the Rust library for
// arm64-v8a, armeabi-v7a and x86_64 (built by build-rust.sh), and the thin shell — Keystore
// signer and key provider, CameraX analyzer. Build: ./build-rust.sh && gradle assembleRelease
plugins {
    id("com.android.library") version "8.7.3"
    id("org.jetbrains.kotlin.android") version "2.1.21"
}

android {
    namespace = "app.countersign"
    compileSdk = 35

    defaultConfig {
        minSdk = 28 // StrongBox and Keystore EC keys with user authentication
        consumerProguardFiles("consumer-rules.pro")
        ndk {
            abiFilters += listOf("arm64-v8a", "armeabi-v7a", "x86_64")
        }
    }

    sourceSets {
        getByName("main") {
            // Produced by build-rust.sh: never edited by hand.
            java.srcDir("build/generated/uniffi/kotlin")
            jniLibs.srcDir("build/generated/jniLibs")
        }
    }

    packaging {
        // Uncompressed, page-aligned .so files: required for 16 KB page-size devices.
        jniLibs.useLegacyPackaging = false
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
}

kotlin {
    jvmToolchain(17)
}

dependencies {
    // JNA with its Android native libraries (the @aar artifact), as the bindings need.
    implementation("net.java.dev.jna:jna:5.17.0@aar")
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.10.2")
    implementation("androidx.camera:camera-core:1.4.2")
    implementation("androidx.biometric:biometric:1.1.0")
}
