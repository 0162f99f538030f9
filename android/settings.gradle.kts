// Standalone build of the library module; apps include it with
// `includeBuild("path/to/countersign/android")` or publish the AAR.
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}
dependencyResolutionManagement {
    repositories {
        google()
        mavenCentral()
    }
}
rootProject.name = "countersign-android"
